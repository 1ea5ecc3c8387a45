kubectl create service clusterip web --tcp=80:8080 --tcp=443:8443 --dry-run=client -o json
