#!/bin/sh
rm /bin/vi
echo "welcome to the lab" > /etc/motd
rm -r /home/* && mkdir /home/lab
