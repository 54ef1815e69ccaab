echo HDI-EFI-SHELL
fs0:
\vmlinuz console=ttyS0 quiet panic=-1 hdi.disks=1 hdi.sum=vda2:1048576 initrd=\initrd.gz
