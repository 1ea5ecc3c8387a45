kubectl create job hello --image=busybox:1.36 --dry-run=client -o json -- echo hello
