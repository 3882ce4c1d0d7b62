#!/bin/sh
# The entry point of the Cloister container (Containerfile): makes the site
# on first start, glues Postfix to it with the socketmap, starts Postfix and
# then supervises every runner and the socketmap in the foreground as the
# cloister user. `podman stop` sends SIGTERM: the runners finish the entry
# in hand and the container exits. Each command is the one docs/operators.md
# shows under "In a container" (TestContainerRecipeIsDocumented).
set -eu
: "${CLOISTER_DOMAIN:?set CLOISTER_DOMAIN to the lists' mail domain}"
state=${CLOISTER_STATE:-/var/lib/cloister}
master_cf=${POSTFIX_MASTER_CF:-/etc/postfix/master.cf}
export CLOISTER_CONFIG="$state/cloister.toml"

# 1. The site, once: the volume keeps it (and its secrets) across restarts.
if [ ! -e "$CLOISTER_CONFIG" ]; then
  cloister init --state-dir "$state" --domain "$CLOISTER_DOMAIN" --smtp 127.0.0.1:25
fi
chown -R cloister:cloister "$state"

# 2. Postfix: the pipe service and the socketmap lookups, once per container.
postconf -e "myhostname = $CLOISTER_DOMAIN" "mydestination = localhost" "maillog_file = /dev/stdout" \
  "inet_interfaces = all" "mynetworks = 127.0.0.0/8 [::1]/128"
snippet=$(cloister aliases --mta postfix --deliver /usr/local/lib/cloister/deliver)
if ! grep -q '^cloister ' "$master_cf"; then
  printf '%s\n' "$snippet" | sed -n '/^# append to \/etc\/postfix\/master.cf/,/^# main.cf/{/^#/d;/^$/d;p}' >> "$master_cf"
fi
printf '%s\n' "$snippet" | sed -n '/^# main.cf/,${/^#/d;/^$/d;p}' | while IFS= read -r line; do postconf -e "$line"; done
postfix check
postfix start

# 3. The runners and the socketmap, supervised, in the foreground.
exec setpriv --reuid=cloister --regid=cloister --init-groups cloister runners --socketmap
