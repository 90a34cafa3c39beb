#!/usr/bin/env bash
# SLURM's accounting for the test cluster: MariaDB (private datadir, 127.0.0.1:3306) and
# slurmdbd (127.0.0.1:6819), so that sacct gives a finished task's verdict. Idempotent;
# called by start_slurm.sh before slurmctld starts.
set -euo pipefail
source "$(dirname "$0")/common.sh"
D=$WORK/slurm
DB=$D/mariadb
install -d -o mysql -g mysql /run/mysqld "$DB"
mkdir -p "$D"/{log,run} /etc/slurm
if [[ ! -d $DB/data/mysql ]]; then
  mariadb-install-db --user=mysql --datadir="$DB/data" --auth-root-authentication-method=socket \
    --skip-test-db > "$D/log/mariadb-install.log" 2>&1
  log "MariaDB datadir created"
fi
db_ok() { mariadb -e 'select 1'; }
if ! alive "$DB/mariadb.pid"; then  # mariadbd stays in the foreground: detach it
  setsid nohup mariadbd --user=mysql --datadir="$DB/data" --bind-address=127.0.0.1 \
    --port=3306 --socket=/run/mysqld/mysqld.sock --pid-file="$DB/mariadb.pid" \
    --log-error="$DB/mariadb.err" --innodb-buffer-pool-size=64M </dev/null >/dev/null 2>&1 &
  log "mariadbd started"
fi
wait_for 150 db_ok >/dev/null
mariadb -e "CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY 'slurm-test';
            CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm-test';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
cat > "$D/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=6819
SlurmUser=root
LogFile=$D/log/slurmdbd.log
PidFile=$D/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageUser=slurm
StoragePass=slurm-test
StorageLoc=slurm_acct_db
CONF
cmp -s "$D/slurmdbd.conf" /etc/slurm/slurmdbd.conf || install -m 600 "$D/slurmdbd.conf" /etc/slurm/slurmdbd.conf
alive "$D/run/slurmdbd.pid" || { /usr/sbin/slurmdbd; log "slurmdbd started"; }
dbd_ok() { sacctmgr -n show cluster; }
wait_for 150 dbd_ok >/dev/null
clusters=$(sacctmgr -n -P show cluster format=cluster)
[[ $'\n'$clusters$'\n' == *$'\n'wflcli-test$'\n'* ]] || sacctmgr -i add cluster wflcli-test >/dev/null
