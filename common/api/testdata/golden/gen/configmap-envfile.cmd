kubectl create configmap env --from-env-file=/tmp/tmp.oGHXyaKVBB/app.env --dry-run=client -o json
