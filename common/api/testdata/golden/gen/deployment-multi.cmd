kubectl create deployment multi --image=nginx:1.27 --image=redis:7 --dry-run=client -o json
