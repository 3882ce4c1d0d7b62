package migrate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// DefaultSchleuderDB is where Debian's Schleuder keeps its database.
const DefaultSchleuderDB = "/var/lib/schleuder/db.sqlite"

// schleuderAddress is what a list or subscription address may look like to
// be put in a query (the database is read through the sqlite3 command).
var schleuderAddress = regexp.MustCompile(`^[a-zA-Z0-9._+=-]+@[a-zA-Z0-9.-]+$`)

// schleuderList is the row of Schleuder's lists table that an import reads.
type schleuderList struct {
	ID                    int    `json:"id"`
	Email                 string `json:"email"`
	Fingerprint           string `json:"fingerprint"`
	SubjectPrefix         string `json:"subject_prefix"`
	PublicFooter          string `json:"public_footer"`
	Language              string `json:"language"`
	MaxMessageSizeKB      int    `json:"max_message_size_kb"`
	SendEncryptedOnly     int    `json:"send_encrypted_only"`
	ReceiveEncryptedOnly  int    `json:"receive_encrypted_only"`
	ReceiveSignedOnly     int    `json:"receive_signed_only"`
	ReceiveAuthOnly       int    `json:"receive_authenticated_only"`
	ReceiveSubscribedOnly int    `json:"receive_from_subscribed_emailaddresses_only"`
	ReceiveAdminOnly      int    `json:"receive_admin_only"`
	ForwardAllToAdmins    int    `json:"forward_all_incoming_to_admins"`
	SetReplyToSender      int    `json:"set_reply_to_to_sender"`
	MungeFrom             int    `json:"munge_from"`
}

// schleuderSubscription is a row of Schleuder's subscriptions table.
type schleuderSubscription struct {
	Email       string `json:"email"`
	Fingerprint string `json:"fingerprint"`
	Admin       int    `json:"admin"`
	Delivery    int    `json:"delivery_enabled"`
}

// Schleuder reads one Schleuder list: its row and subscriptions from the
// database db (SQLite, read with the sqlite3 command, read-only) and its
// keys from the GnuPG keyring in listDir (Schleuder's lists_dir/DOMAIN/NAME,
// read with gpg from a private copy, so Schleuder's keyring is not touched).
func Schleuder(listDir, db string) (*Plan, error) {
	abs, err := filepath.Abs(listDir)
	if err != nil {
		return nil, err
	}
	address := strings.ToLower(filepath.Base(abs) + "@" + filepath.Base(filepath.Dir(abs)))
	if !schleuderAddress.MatchString(address) {
		return nil, fmt.Errorf("schleuder list dir %s: %s is not a list address (want LISTS_DIR/DOMAIN/NAME)", listDir, address)
	}
	var rows []schleuderList
	if err := sqliteJSON(db, "select * from lists where lower(email) = '"+address+"'", &rows); err != nil {
		return nil, err
	}
	if len(rows) != 1 {
		return nil, fmt.Errorf("schleuder database %s has no list %s", db, address)
	}
	l := rows[0]
	var subs []schleuderSubscription
	if err := sqliteJSON(db, "select email, fingerprint, admin, delivery_enabled from subscriptions where list_id = "+strconv.Itoa(l.ID)+" order by email", &subs); err != nil {
		return nil, err
	}
	home, cleanup, err := copyKeyring(abs)
	if err != nil {
		return nil, err
	}
	defer cleanup()

	p := &Plan{Address: address, Style: "encrypted-openpgp"}
	if l.Fingerprint == "" {
		return nil, fmt.Errorf("schleuder list %s has no key fingerprint", address)
	}
	if p.ListSecretKey, err = gpgExport(home, "--export-secret-keys", l.Fingerprint); err != nil {
		return nil, fmt.Errorf("schleuder list %s: its key %s: %w", address, l.Fingerprint, err)
	}
	schleuderSettings(p, l)
	for _, s := range subs {
		if !schleuderAddress.MatchString(s.Email) {
			p.note(fmt.Sprintf("subscription %q left out: not an address", s.Email))
			continue
		}
		m := Member{Address: strings.ToLower(s.Email), Owner: s.Admin == 1, Member: true, Delivery: "enabled", Moderator: s.Admin == 1 && l.ReceiveAdminOnly == 1}
		if s.Delivery == 0 {
			m.Delivery = "disabled"
		}
		if s.Fingerprint != "" {
			if m.Key, err = gpgExport(home, "--export", s.Fingerprint); err != nil {
				p.note(fmt.Sprintf("%s: key %s not exported (%v); the member is imported without a key", m.Address, s.Fingerprint, err))
			}
		} else {
			p.note(m.Address + ": no key in Schleuder; the member gets only notices until a key is set")
		}
		p.Members = append(p.Members, m)
	}
	return p, nil
}

// schleuderSettings maps a Schleuder list's options to Cloister settings.
func schleuderSettings(p *Plan, l schleuderList) {
	// Schleuder always decrypts; it refuses clear posts only with
	// receive_encrypted_only.
	if l.ReceiveEncryptedOnly == 1 {
		p.set("pgp_post_encrypt", "force")
	} else {
		p.set("pgp_post_encrypt", "yes")
	}
	switch {
	case l.ReceiveAdminOnly == 1:
		p.set("send", "send.newsletter")
		p.note("receive_admin_only: only the admins, made moderators, may post (send.newsletter)")
	case l.ReceiveSignedOnly == 1 || l.ReceiveAuthOnly == 1:
		p.set("send", "send.private_pgp")
		if l.ReceiveSubscribedOnly == 0 && l.ReceiveAuthOnly == 0 {
			p.note("receive_signed_only: Schleuder took signed posts from anyone; Cloister takes them from subscribers signing with their bound key (send.private_pgp)")
		}
	case l.ReceiveSubscribedOnly == 1:
		p.set("send", "send.private")
		p.set("pgp_post_sign", "no")
	default:
		p.set("send", "send.public")
		p.set("pgp_post_sign", "no")
		p.note("Schleuder took posts from anyone: send.public (set send to send.private_pgp to require subscribers' signatures)")
	}
	if l.SendEncryptedOnly == 0 {
		p.set("pgp_distrib_encrypt", "yes")
		p.note("send_encrypted_only was off: subscribers without a key get clear copies of clear posts (pgp_distrib_encrypt yes)")
	}
	prefix := l.SubjectPrefix
	if prefix != "" && !strings.HasSuffix(prefix, " ") {
		prefix += " "
	}
	p.set("subject_prefix", prefix)
	if l.Language != "" {
		p.set("language", l.Language)
	}
	if l.MaxMessageSizeKB > 0 {
		p.set("max_message_size_kb", strconv.Itoa(l.MaxMessageSizeKB))
	}
	if strings.TrimSpace(l.PublicFooter) != "" {
		p.set("footer", l.PublicFooter)
	}
	if l.ForwardAllToAdmins == 1 {
		p.note("forward_all_incoming_to_admins is not carried over")
	}
	if l.SetReplyToSender == 1 || l.MungeFrom == 1 {
		p.note("set_reply_to_to_sender and munge_from are not carried over (see reply_to and dmarc_mitigation)")
	}
}

// sqliteJSON runs one query on db, read-only, and decodes its JSON rows.
func sqliteJSON(db, query string, v any) error {
	if _, err := os.Stat(db); err != nil {
		return fmt.Errorf("schleuder database: %w", err)
	}
	if _, err := exec.LookPath("sqlite3"); err != nil {
		return errors.New("reading Schleuder's database needs the sqlite3 command (apt install sqlite3)")
	}
	cmd := exec.Command("sqlite3", "-readonly", "-json", db, query)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("sqlite3 %s: %v: %s", db, err, strings.TrimSpace(errOut.String()))
	}
	if strings.TrimSpace(out.String()) == "" {
		return nil // no rows
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		return fmt.Errorf("sqlite3 %s: %w", db, err)
	}
	return nil
}

// copyKeyring copies the GnuPG files of a Schleuder list directory into a
// private temporary home, so that gpg (and its agent) touch nothing of
// Schleuder's.
func copyKeyring(listDir string) (string, func(), error) {
	home, err := os.MkdirTemp("", "cloister-import-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run()
		os.RemoveAll(home)
	}
	files := []string{"pubring.kbx", "pubring.gpg", "trustdb.gpg", "secring.gpg"}
	keys, _ := filepath.Glob(filepath.Join(listDir, "private-keys-v1.d", "*.key"))
	found := false
	for _, f := range append(files, keys...) {
		src := f
		if !filepath.IsAbs(src) {
			src = filepath.Join(listDir, f)
		}
		rel, _ := filepath.Rel(listDir, src)
		if err := copyRegular(src, filepath.Join(home, rel)); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			cleanup()
			return "", nil, err
		}
		found = true
	}
	if !found {
		cleanup()
		return "", nil, fmt.Errorf("schleuder list dir %s holds no GnuPG keyring", listDir)
	}
	return home, cleanup, nil
}

func copyRegular(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return out.Close()
}

// gpgExport exports one key (binary) from home.
func gpgExport(home, what, fingerprint string) ([]byte, error) {
	if !regexp.MustCompile(`^[0-9A-Fa-f]{16,64}$`).MatchString(fingerprint) {
		return nil, fmt.Errorf("%q is not a fingerprint", fingerprint)
	}
	args := []string{"--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", "", "--export-options", "export-minimal", what, "0x" + fingerprint}
	cmd := exec.Command("gpg", args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gpg %s: %v: %s", what, err, strings.TrimSpace(errOut.String()))
	}
	if out.Len() == 0 {
		return nil, fmt.Errorf("gpg %s: no such key", what)
	}
	return out.Bytes(), nil
}
