kubectl create secret tls shop-tls --cert=/tmp/tmp.oGHXyaKVBB/tls.crt --key=/tmp/tmp.oGHXyaKVBB/tls.key --dry-run=client -o json
