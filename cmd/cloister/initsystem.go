package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
)

// systemLayout is where `cloister init --system` puts an installed site:
// the state private to the service user, the config in /etc/cloister, and
// the secrets in a credentials directory that the units hand to the runners
// with LoadCredential=.
type systemLayout struct {
	StateDir, ConfigDir, CredentialsDir, User string
}

// Default places of an installed site.
const (
	systemStateDir       = "/var/lib/cloister"
	systemConfigDir      = "/etc/cloister"
	systemCredentialsDir = "/etc/cloister/credentials"
)

// owner returns the uid and gid of the service user.
func (l systemLayout) owner() (uid, gid int, err error) {
	u, err := user.Lookup(l.User)
	if err != nil {
		return 0, 0, fmt.Errorf("no user %q: create it first (systemd-sysusers etc/systemd/cloister.sysusers, or useradd --system --home %s --shell /usr/sbin/nologin %s): %w", l.User, l.StateDir, l.User, err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, nil
}

// makePrivateDir creates dir with mode 0700, or checks an existing one.
func makePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	return checkPrivate(dir)
}

// checkPrivate refuses a file or directory that its group or others may
// read, write or enter.
func checkPrivate(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o, looser than %04o: fix it (chmod go-rwx %s) and run again", path, perm, perm&0o700, path)
	}
	return nil
}

// secure gives the state and the credentials to the service user (when run
// as root) and checks that the state directory, the databases and the
// secrets are private.
func (l systemLayout) secure(uid, gid int) error {
	if os.Geteuid() == 0 {
		for _, root := range []string{l.StateDir, l.CredentialsDir} {
			err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				return os.Lchown(p, uid, gid)
			})
			if err != nil {
				return fmt.Errorf("chown %s: %w", root, err)
			}
		}
	}
	var errs []error
	for _, p := range []string{l.StateDir, l.CredentialsDir,
		filepath.Join(l.StateDir, "cloister.db"), filepath.Join(l.StateDir, "keyring.db"), filepath.Join(l.StateDir, "bounce-secret"),
		filepath.Join(l.CredentialsDir, "keyring-passphrase"), filepath.Join(l.CredentialsDir, "queue-key")} {
		if err := checkPrivate(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// systemConfigNote ends the config of an installed site.
func systemConfigNote(credentials string) string {
	return fmt.Sprintf(`
# Written by cloister init --system. keyring_passphrase_file and
# queue_key_file are unset: the runners read $CREDENTIALS_DIRECTORY, filled by
# LoadCredential= in the systemd units from %[1]s.
# Run the CLI as the service user with the same credentials:
#   runuser -u cloister -- env CREDENTIALS_DIRECTORY=%[1]s cloister ...
`, credentials)
}
