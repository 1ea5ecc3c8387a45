kubectl create service nodeport np --tcp=80:8080 --node-port=30080 --dry-run=client -o json
