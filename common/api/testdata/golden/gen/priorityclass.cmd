kubectl create priorityclass high --value=1000 --description=for the shop --preemption-policy=Never --dry-run=client -o json
