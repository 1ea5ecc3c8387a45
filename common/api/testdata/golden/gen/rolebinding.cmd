kubectl create rolebinding readers --role=pod-reader --user=alice --group=devs --serviceaccount=ci:deployer --dry-run=client -o json
