#!/usr/bin/env bash
# An sshd of our own on 127.0.0.1:2222 (own config, host key and client key; key login
# only). /etc/ssh is left alone. Idempotent. Prints nothing on stdout.
set -euo pipefail
source "$(dirname "$0")/common.sh"
D=$WORK/sshd PORT=${WFLCLI_SSH_PORT:-2222}
[[ -x /usr/sbin/sshd ]] || apt_install openssh-server openssh-client
install -d -m 700 "$D"; install -d -m 755 /run/sshd
[[ -f $D/host_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C wflcli-test-host -f "$D/host_ed25519"
[[ -f $D/client_ed25519 ]] || ssh-keygen -q -t ed25519 -N '' -C wflcli-test-client -f "$D/client_ed25519"
install -m 600 "$D/client_ed25519.pub" "$D/authorized_keys"
# the line a client puts in known_hosts to trust this server
echo "[127.0.0.1]:$PORT $(cut -d' ' -f1,2 "$D/host_ed25519.pub")" > "$D/known_hosts"
cat > "$D/sshd_config" <<CONF
ListenAddress 127.0.0.1
Port $PORT
HostKey $D/host_ed25519
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
StrictModes no
UseDNS no
MaxSessions 64
MaxStartups 64:30:100
Subsystem sftp internal-sftp
CONF
/usr/sbin/sshd -t -f "$D/sshd_config"
if alive "$D/sshd.pid"; then kill -HUP "$(cat "$D/sshd.pid")"; else
  /usr/sbin/sshd -f "$D/sshd_config" -E "$D/sshd.log"; log "sshd on 127.0.0.1:$PORT"; fi
wait_for 50 ssh -q -p "$PORT" -i "$D/client_ed25519" -o BatchMode=yes \
  -o UserKnownHostsFile="$D/known_hosts" root@127.0.0.1 true
