#!/bin/sh
# podnet: the pod network of offline lab clusters, doing what kind's kindnetd does.
# Every few seconds it reads the nodes from the API server and
#  - writes this node's CNI config (ptp + host-local on the node's podCIDR),
#  - routes every other node's podCIDR via that node's InternalIP,
#  - masquerades pod traffic that leaves the pod network.
# Delete /etc/cni/net.d/10-kindnet.conflist and it is written again, as kindnetd would.
set -u
SA=/var/run/secrets/kubernetes.io/serviceaccount
API="https://${CONTROL_PLANE_ENDPOINT:-${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}}"
CNI_CONF=/etc/cni/net.d/10-kindnet.conflist

write_cni_conf() {
  # a dot file beside it: same filesystem for an atomic rename, and ignored by the CNI loader
  tmp="$(dirname "$CNI_CONF")/.$(basename "$CNI_CONF").tmp"
  cat > "$tmp" <<CONF
{
  "cniVersion": "0.3.1",
  "name": "kindnet",
  "plugins": [
    {
      "type": "ptp",
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "dataDir": "/run/cni-ipam-state",
        "routes": [{"dst": "0.0.0.0/0"}],
        "ranges": [[{"subnet": "$1"}]]
      },
      "mtu": 1500
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
CONF
  if ! cmp -s "$tmp" "$CNI_CONF"; then
    mv "$tmp" "$CNI_CONF"
    echo "podnet: wrote $CNI_CONF for $1"
  else
    rm -f "$tmp"
  fi
}

ensure_masquerade() {
  rule="-s $POD_SUBNET ! -d $POD_SUBNET -m addrtype ! --dst-type LOCAL -j MASQUERADE"
  # shellcheck disable=SC2086
  iptables -t nat -C POSTROUTING $rule 2>/dev/null || iptables -t nat -A POSTROUTING $rule
}

while true; do
  nodes=$(curl -sf --max-time 5 --cacert "$SA/ca.crt" -H "Authorization: Bearer $(cat "$SA/token")" "$API/api/v1/nodes")
  if [ -z "$nodes" ]; then
    echo "podnet: API server at $API not answering yet"
    sleep 2
    continue
  fi
  echo "$nodes" | jq -r '.items[] | [.metadata.name, ([.status.addresses[] | select(.type=="InternalIP") | .address][0] // ""), (.spec.podCIDR // "")] | @tsv' |
    while IFS="$(printf '\t')" read -r name ip cidr; do
      [ -n "$cidr" ] || continue
      if [ "$name" = "$NODE_NAME" ]; then
        write_cni_conf "$cidr"
      elif [ -n "$ip" ]; then
        ip route replace "$cidr" via "$ip" || echo "podnet: cannot route $cidr via $ip"
      fi
    done
  ensure_masquerade
  sleep 5
done
