package archive

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg"
)

// Summary describes one archived message for an index.
type Summary struct {
	Entry
	// Date, From and Subject come from the message's header (Subject
	// decoded); empty when it cannot be read.
	Date, From, Subject string
}

// Message is one archived message, decrypted.
type Message struct {
	Summary
	// Raw is the message as it left the pipeline.
	Raw []byte
}

// For returns the Store of a list of the site.
func For(s *site.Site, list string) *Store {
	return &Store{Dir: s.Config.ArchiveDir(strings.ToLower(list))}
}

// secretKey returns the list's archive key when the site's keyring can
// give it, else nil (encrypted entries then stay unread).
func secretKey(s *site.Site, list string) (*openpgp.Entity, error) {
	if s.Keys == nil || s.ArchiveKeys == nil {
		return nil, nil
	}
	k, err := s.ArchiveKeys.ArchiveSecretKey(list)
	if errors.Is(err, site.ErrNoListKey) {
		return nil, nil
	}
	return k, err
}

// Index lists the archived messages of a list, oldest first, numbered for
// Get. Encrypted messages are decrypted with the archive key from the
// site's keyring to read their header; without it (no keyring, no
// passphrase) their Date, From and Subject stay empty. last, when above zero, limits the index to the last
// messages (their numbers stay those of the whole archive).
func Index(s *site.Site, list string, last int) ([]Summary, error) {
	st := For(s, list)
	es, err := st.Entries()
	if err != nil {
		return nil, err
	}
	if last > 0 && len(es) > last {
		es = es[len(es)-last:]
	}
	var key *openpgp.Entity
	tried := false
	out := make([]Summary, 0, len(es))
	for _, e := range es {
		if e.Encrypted && key == nil && !tried {
			tried = true
			if key, err = secretKey(s, list); err != nil {
				key = nil // listed without their header fields
			}
		}
		sum := Summary{Entry: e}
		if msg, err := st.Read(e, key); err == nil {
			sum.Date, sum.From, sum.Subject = HeaderSummary(msg)
		}
		out = append(out, sum)
	}
	return out, nil
}

// Get returns the archived message numbered n (as Index numbers it), in
// clear: decrypted with the archive key from the site's keyring when it is
// stored encrypted. Summary.Encrypted tells the caller that the message
// belongs to an encrypted archive and may only be sent on encrypted.
func Get(s *site.Site, list string, n int) (*Message, error) {
	st := For(s, list)
	e, err := st.Entry(n)
	if err != nil {
		return nil, err
	}
	var key *openpgp.Entity
	if e.Encrypted {
		if key, err = secretKey(s, list); err != nil {
			return nil, err
		}
	}
	raw, err := st.Read(e, key)
	if err != nil {
		return nil, err
	}
	m := &Message{Summary: Summary{Entry: e}, Raw: raw}
	m.Date, m.From, m.Subject = HeaderSummary(raw)
	return m, nil
}

// headerSummary reads the date, sender and subject of a message, each on
// one line and clipped.
func HeaderSummary(msg []byte) (date, from, subject string) {
	head := msg
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i+2]
	} else if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		head = head[:i+4]
	}
	m, err := mailmsg.Parse(head)
	if err != nil {
		return "", "", ""
	}
	from, _ = m.FromAddress()
	return clipLine(m.Get("Date")), clipLine(from), clipLine(mailmsg.DecodeHeader(m.Get("Subject")))
}

func clipLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:120]
		for len(s) > 0 && s[len(s)-1]&0xc0 == 0x80 {
			s = s[:len(s)-1]
		}
		if len(s) > 0 && s[len(s)-1] >= 0xc0 {
			s = s[:len(s)-1]
		}
	}
	return s
}

// Expire applies archive_keep_days to every list of the site and returns
// how many messages it removed.
func Expire(s *site.Site, now time.Time) (int, error) {
	var all []*lists.List
	if err := s.Lists.View(func(tx *lists.Tx) (err error) {
		all, err = tx.Lists()
		return err
	}); err != nil {
		return 0, err
	}
	total := 0
	for _, l := range all {
		if l.Settings.ArchiveKeepDays <= 0 {
			continue
		}
		n, err := For(s, l.Address).Expire(now.AddDate(0, 0, -l.Settings.ArchiveKeepDays))
		total += n
		if err != nil {
			return total, fmt.Errorf("expire archive of %s: %w", l.Address, err)
		}
	}
	return total, nil
}
