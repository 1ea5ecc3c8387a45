kubectl create deployment web --image=nginx:1.27 --replicas=3 --port=80 -n shop --dry-run=client -o json
