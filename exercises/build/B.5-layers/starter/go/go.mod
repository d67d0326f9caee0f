module runtime-lab

go 1.19
