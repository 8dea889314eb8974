#!/usr/bin/env bash
# Makes a cluster CA and one node certificate for samples/Kubernetes in ./certs (ignored by git, see .gitignore here);
# refuses to overwrite an existing ./certs.
# The node certificate is shared by every pod: nodes accept any peer whose certificate chains to the cluster CA, so one
# certificate is enough for a sample. In production issue one per node (cert-manager can), and keep ca.key off the nodes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if [[ -e certs ]]; then
  echo "certs/ exists already; remove it to make new certificates." >&2
  exit 1
fi
mkdir -m 700 certs
cd certs
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 1825 \
  -subj "/CN=Mesh sample cluster CA" -keyout ca.key -out cluster-ca.pem \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:0" -addext "keyUsage=critical,keyCertSign,cRLSign"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
  -subj "/CN=mesh-cluster" -keyout node.key -out node.csr
openssl x509 -req -in node.csr -CA cluster-ca.pem -CAkey ca.key -CAcreateserial -days 365 -sha256 -out node.pem \
  -extfile <(printf "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\nsubjectAltName=DNS:mesh-cluster,DNS:*.mesh-cluster\n")
rm node.csr
chmod 600 ca.key node.key
echo "certs/cluster-ca.pem, certs/node.pem and certs/node.key are ready; certs/ca.key stays here, not in the cluster."
