#!/bin/sh
# Runs inside a stage-5 container of the busybox image. Make the three changes here.
