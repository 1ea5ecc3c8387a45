kubectl create deployment web --image=nginx:1.27 --replicas=2 --port=80
