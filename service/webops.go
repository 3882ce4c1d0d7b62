package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/archive"
	"cloister/internal/listaddr"
	"cloister/keyring"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
	"cloister/ownmail"
	"cloister/queue"
	"cloister/rules"
)

// Operations the web interface needs besides those of the API: what an
// anonymous visitor may see of the site (the directory, a list's public
// page). They read only and are not audited.

// ListAbout is the public face of a list: what its page shows anyone
// allowed to know it exists.
type ListAbout struct {
	Address         string `json:"address"`
	Description     string `json:"description"`
	SubscribePolicy string `json:"subscribe_policy"`
	Archive         string `json:"archive"`
	Advertised      bool   `json:"advertised"`
	// Roles are the actor's roles on the list (none for a visitor).
	Roles []string `json:"roles,omitempty"`
	// Delivery is the actor's delivery mode when subscribed.
	Delivery string `json:"delivery,omitempty"`
}

// Directory returns the lists an actor may see in the list directory: the
// advertised ones (advertised = false keeps a confidential list out of it)
// and, for a person, the lists they have a role on. Unlike ListList it
// needs no address: an anonymous visitor of the web sees the advertised
// lists.
func (s *Service) Directory(ctx context.Context, a Actor) ([]ListSummary, error) {
	if a.Address != "" || !a.isPerson() {
		return s.ListList(ctx, a, ListListRequest{})
	}
	return s.visibleLists(a)
}

// About returns the public page of a list. A list that is not advertised
// is not_found for anyone without a role on it, exactly as an unknown one,
// so that its existence does not leak.
func (s *Service) About(ctx context.Context, a Actor, req ListRef) (ListAbout, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return ListAbout{}, err
	}
	out := ListAbout{Address: l.Address, Description: l.Description, SubscribePolicy: l.Settings.SubscribePolicy,
		Archive: l.Settings.Archive, Advertised: l.Settings.Advertised}
	if a.isPerson() && a.Address != "" {
		s.site.Lists.View(func(tx *lists.Tx) error {
			if m, err := tx.Member(l.Address, a.Address); err == nil {
				out.Roles = memberInfo(m).Roles
				out.Delivery = string(m.Delivery)
			}
			return nil
		})
	}
	if !l.Settings.Advertised && len(out.Roles) == 0 && (a.isPerson() || a.Method == "") {
		return ListAbout{}, errorf(CodeNotFound, "no list %s", l.Address)
	}
	return out, nil
}

// ArchiveRequest asks for the index of a list's archive.
type ArchiveRequest struct {
	List string `json:"list"`
}

// ArchiveItem is one archived message in an index. For an encrypted
// archive only N and Time are given: its header fields are never shown.
type ArchiveItem struct {
	N          int       `json:"n"`
	Time       time.Time `json:"time"`
	Date       string    `json:"date,omitempty"`
	From       string    `json:"from,omitempty"`
	Subject    string    `json:"subject,omitempty"`
	MessageID  string    `json:"message_id,omitempty"`
	InReplyTo  string    `json:"in_reply_to,omitempty"`
	References []string  `json:"references,omitempty"`
}

// ArchiveIndex is a list's archive as the web browses it.
type ArchiveIndex struct {
	List string `json:"list"`
	// Encrypted tells that the archive is kept encrypted: nothing of its
	// messages is shown; each is only mailed, encrypted, on request.
	Encrypted bool          `json:"encrypted"`
	Items     []ArchiveItem `json:"items"`
}

// ArchiveRef names one archived message.
type ArchiveRef struct {
	List string `json:"list"`
	N    int    `json:"n"`
}

// ArchivedMessage is one message of a plaintext archive, as stored.
type ArchivedMessage struct {
	ArchiveItem
	Raw []byte `json:"raw"`
}

// MaxArchiveIndex bounds the messages an index reads (the newest).
const MaxArchiveIndex = 5000

var (
	opArchiveRead = Op{"archive.read", ClassRead, "get"}
	opArchiveMail = Op{"archive.mail", ClassRead, "get"}
)

// archiveAccess checks that the actor may read the list's archive: none
// keeps no archive; public is open to anyone, even a visitor who has not
// logged in; private is decided by the list's get scenario for the
// actor's method, as the get and index commands by mail are.
func (s *Service) archiveAccess(a Actor, l *lists.List) error {
	switch l.Settings.Archive {
	case "none":
		return errorf(CodeNotFound, "%s keeps no archive", l.Address)
	case "public":
		if a.isPerson() && a.Address == "" {
			return nil
		}
	}
	if a.isPerson() {
		if a.Address == "" {
			return errorf(CodeUnauthenticated, "log in to read the archive of %s", l.Address)
		}
		d, err := s.Decide(a, l, "get")
		if err != nil {
			return internal(err, "check the list's rules")
		}
		if d.Action != rules.ScenarioDoIt {
			return errorf(CodeForbidden, "%s", ReasonText(d.Reason))
		}
		return nil
	}
	return s.authorize(a, opArchiveRead, l)
}

// encryptedArchive tells whether a list's archive is (or may be) kept
// encrypted; its messages are never rendered.
func encryptedArchive(l *lists.List) bool { return archive.MayBeEncrypted(l.Settings) }

// ArchiveBrowse returns the index of a list's archive, oldest first: for a
// plaintext archive with the header fields that dates, threads and search
// need; for an encrypted one the numbers and times only.
func (s *Service) ArchiveBrowse(ctx context.Context, a Actor, req ArchiveRequest) (ArchiveIndex, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return ArchiveIndex{}, err
	}
	if err := s.archiveAccess(a, l); err != nil {
		return ArchiveIndex{}, err
	}
	st := archive.For(s.site, l.Address)
	es, err := st.Entries()
	if err != nil {
		return ArchiveIndex{}, internal(err, "read the archive")
	}
	if len(es) > MaxArchiveIndex {
		es = es[len(es)-MaxArchiveIndex:]
	}
	out := ArchiveIndex{List: l.Address, Encrypted: encryptedArchive(l)}
	for _, e := range es {
		it := ArchiveItem{N: e.N, Time: e.Time}
		if !out.Encrypted && !e.Encrypted {
			if raw, err := st.Read(e, nil); err == nil {
				it = archiveItem(e, raw)
			}
		}
		out.Items = append(out.Items, it)
	}
	return out, nil
}

// archiveItem reads the header fields of an archived message.
func archiveItem(e archive.Entry, raw []byte) ArchiveItem {
	it := ArchiveItem{N: e.N, Time: e.Time}
	it.Date, it.From, it.Subject = archive.HeaderSummary(raw)
	if m, err := mailmsg.Parse(raw); err == nil {
		it.MessageID = strings.TrimSpace(m.Get("Message-ID"))
		it.InReplyTo = strings.TrimSpace(m.Get("In-Reply-To"))
		it.References = strings.Fields(m.Get("References"))
	}
	return it
}

// ArchiveMessage returns one message of a plaintext archive as stored. A
// message of an encrypted archive is refused (conflict): it is only mailed,
// encrypted (ArchiveMailMe).
func (s *Service) ArchiveMessage(ctx context.Context, a Actor, req ArchiveRef) (ArchivedMessage, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return ArchivedMessage{}, err
	}
	if err := s.archiveAccess(a, l); err != nil {
		return ArchivedMessage{}, err
	}
	st := archive.For(s.site, l.Address)
	e, err := st.Entry(req.N)
	if errors.Is(err, archive.ErrNoEntry) {
		return ArchivedMessage{}, errorf(CodeNotFound, "no archived message %d", req.N)
	}
	if err != nil {
		return ArchivedMessage{}, internal(err, "read the archive")
	}
	if encryptedArchive(l) || e.Encrypted {
		return ArchivedMessage{}, errorf(CodeConflict, "the archive of %s is encrypted: its messages are not shown, they are mailed to you encrypted on request", l.Address)
	}
	raw, err := st.Read(e, nil)
	if err != nil {
		return ArchivedMessage{}, internal(err, "read the archived message")
	}
	return ArchivedMessage{ArchiveItem: archiveItem(e, raw), Raw: raw}, nil
}

// ArchiveMailMe mails one archived message to the actor, attached to a
// short note. A message of an encrypted archive (or of a list that
// distributes encrypted only) goes only encrypted to the actor's key: the
// entry says it carries the plaintext of an encrypted post, so the
// distributor encrypts it or sends a content-free notice, and the egress
// gate refuses any copy in clear.
func (s *Service) ArchiveMailMe(ctx context.Context, a Actor, req ArchiveRef) (err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opArchiveMail, addr, fmt.Sprint(req.N), err) }()
	if a.Address == "" {
		return errorf(CodeInvalid, "the message goes to the actor's own address, and this actor has none")
	}
	l, err := s.loadList(req.List)
	if err != nil {
		return err
	}
	if err := s.archiveAccess(a, l); err != nil {
		return err
	}
	msg, err := archive.Get(s.site, l.Address, req.N)
	if errors.Is(err, archive.ErrNoEntry) {
		return errorf(CodeNotFound, "no archived message %d", req.N)
	}
	if err != nil {
		return internal(err, "read the archived message")
	}
	confidential := msg.Encrypted || encryptedArchive(l) ||
		l.Settings.PGPDistribEncrypt == "force" || l.Settings.SMIMEDistribEncrypt == "force"
	now := s.now()
	n, err := notices.ForList(s.site, l, "archive_message", a.Address, map[string]any{"List": l.Address, "N": req.N})
	if err != nil {
		return internal(err, "write the mail")
	}
	head, err := notices.Header{From: listaddr.Address(l.Address, queue.SubRequest), To: a.Address,
		Subject: n.Subject, List: l.Address}.Encode(now)
	if err != nil {
		return internal(err, "write the mail")
	}
	var b bytes.Buffer
	b.Write(head)
	b.WriteString("MIME-Version: 1.0\n")
	b.Write(notices.Entity(n.Body, []notices.Part{{Type: "message/rfc822", Name: fmt.Sprintf("post-%d.eml", req.N), Data: msg.Raw, Raw: true}}))
	m := ownmail.Meta(l.Address, "notice", nil, false, now, a.Address)
	if confidential {
		m.Carries = queue.CarriesPlaintext
		m.Lineage = &queue.Lineage{Encrypted: true}
	}
	q := s.site.Queue(queue.Out)
	sum := sha256.Sum256(b.Bytes())
	m.ID = queue.NewID(now, hex.EncodeToString(sum[:20])) // the seal is bound to the ID: set before sealing
	body, err := s.site.SealBody(m, b.Bytes())
	if err != nil {
		return internal(err, "seal the mail")
	}
	if _, err := q.EnqueueBytes(m, body); err != nil {
		return internal(err, "queue the mail")
	}
	return nil
}

// ListKeyInfo is the fingerprint of one of a list's public keys.
type ListKeyInfo struct {
	Kind        string `json:"kind"` // openpgp or smime
	Fingerprint string `json:"fingerprint"`
}

// ListPublicKeys returns the fingerprints of a list's OpenPGP key and S/MIME
// certificate, for anyone who may see the list (About): members need them
// to encrypt their posts and check the list's signatures.
func (s *Service) ListPublicKeys(ctx context.Context, a Actor, req ListRef) ([]ListKeyInfo, error) {
	ab, err := s.About(ctx, a, req)
	if err != nil {
		return nil, err
	}
	k, err := s.openKeyring()
	if err != nil {
		return nil, wrapf(err, CodeUnavailable, "the keyring cannot be opened")
	}
	var out []ListKeyInfo
	if b, err := k.ExportOpenPGP(ab.Address); err == nil {
		if el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b)); err == nil && len(el) == 1 {
			out = append(out, ListKeyInfo{Kind: "openpgp", Fingerprint: fmt.Sprintf("%X", el[0].PrimaryKey.Fingerprint)})
		}
	}
	if b, err := k.ExportSMIME(ab.Address); err == nil {
		if blk, _ := pem.Decode(b); blk != nil {
			if c, err := x509.ParseCertificate(blk.Bytes); err == nil {
				out = append(out, ListKeyInfo{Kind: "smime", Fingerprint: keyring.CertFingerprint(c)})
			}
		}
	}
	return out, nil
}

// ListPublicKeyExport is ListKeyExport for anyone who may see the list,
// a visitor who has not logged in included.
func (s *Service) ListPublicKeyExport(ctx context.Context, a Actor, req ListKeyRequest) (Export, error) {
	if _, err := s.About(ctx, a, ListRef{List: req.List}); err != nil {
		return Export{}, err
	}
	return s.ListKeyExport(ctx, Actor{Method: MethodConsole, Via: a.Via}, req)
}
