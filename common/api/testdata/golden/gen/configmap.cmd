kubectl create configmap cfg --from-literal=a=1 --from-literal=b=two words --dry-run=client -o json
