kubectl create cronjob tick --image=busybox:1.36 --schedule=*/5 * * * * --dry-run=client -o json -- date
