// Package distribute makes the copies of a post for its subscribers: it
// signs the post once and encrypts it once per technology, then gives each
// subscriber (or batch of subscribers) a copy carrying only their key
// packets or RecipientInfos, or a notice when no usable key is on file.
// The outgoing runner sends what it makes.
package distribute

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/handlers"
	"cloister/internal/listaddr"
	"cloister/internal/site"
	"cloister/internal/stats"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/cms"
	"cloister/mimecrypt/pgp"
	"cloister/mimecrypt/smime"
	"cloister/mta"
	"cloister/notices"
	"cloister/queue"
)

// Copy is one SMTP transaction's message for its recipients, as the
// Distributor makes it: whole (Data) or in parts (Parts) that copies of one
// post share, a no-key notice instead of the post (Notice), or the error
// that kept it from being made (Err).
type Copy struct {
	Rcpts  []string
	Data   []byte
	Parts  []*mta.Part
	Notice bool // a no-key notice instead of the post
	Err    error
}

// ErrUnreadablePost is the error of a post whose header cannot be parsed:
// it can never be distributed (the outgoing runner puts it in bad).
var ErrUnreadablePost = errors.New("unreadable post")

// CoverField is the header field that marks a dummy post. The Distributor
// moves it inside the encryption; the cleanse handler removes it from
// incoming mail, so that no sender can make a real post look like one.
const CoverField = "Cloister-Cover"

// Distributor prepares the copies of one post: it signs once and encrypts
// once per technology, then gives each subscriber a copy carrying only that
// subscriber's key packet or RecipientInfo (DESIGN.md section 1). A post that
// arrived encrypted is never sent in clear: a subscriber without a usable key
// gets a notice instead (security invariant 2).
type Distributor struct {
	site  *site.Site
	list  *lists.List
	meta  *queue.Meta
	now   time.Time
	outer *mailmsg.Message // the post's header without its Content-* fields
	// The post's MIME entity, in two pieces that are never joined (a large
	// post is not copied): its Content-* fields and blank line (innerHead)
	// and its body (innerBody, the post's own bytes).
	innerHead, innerBody []byte
	arrived              bool // the post arrived encrypted

	// The post as the pipeline left it: plain until prepare, then read again
	// by reread (once) if a copy needs it, so that the fan-out of a large
	// post encrypted to every subscriber does not hold it.
	plain     []byte
	reread    func() ([]byte, error)
	plainOnce sync.Once
	plainErr  error

	pgpKey               *openpgp.Entity
	smimeCert            *x509.Certificate
	smimeKey             crypto.Signer
	smimeChain           []*x509.Certificate
	wantPGP, wantSMIME   bool // encrypt to subscribers with a key of that kind
	forcePGP, forceSMIME bool // subscribers without a key get a notice
	signPGP, signSMIME   bool // sign plaintext copies
	once                 sync.Once
	err                  error
	pgpSealed            *pgp.Sealed
	smimeSealed          *smime.Sealed
	pgpFor               map[string]*openpgp.Entity // recipients' keys found by smimeNeeded; read only after New
	outerHeader          []byte
	headerPart           *mta.Part // outerHeader, encoded for the wire once
	signedOnce           sync.Once
	signedPlain          []byte // the signed copy in clear, made for the first who gets it
	signedPart           []*mta.Part
	signedErr            error
	plainPart            []*mta.Part // the post in clear, encoded for the wire once
	mu                   sync.Mutex  // guards plainPart
	tails                sync.Map    // SharedID -> *mta.Part: the shared armor of the OpenPGP body
	smimeTails           sync.Map    // first byte of a shared base64 tail -> its *mta.Part
}

// CopySize estimates the bytes of one copy made ahead of the SMTP session:
// an OpenPGP copy holds only its header and key packets (the armor of the
// body is shared, or written as it is sent: mta.NewWirePart), an S/MIME copy
// only its header and RecipientInfos (the base64 of the encrypted content
// is shared); a copy of a confidential entry is joined whole for the
// egress gate.
func (d *Distributor) CopySize() int {
	// The egress gate reads each copy of a confidential entry whole
	// (the outgoing runner reads unit.message).
	if d.meta.Confidential() {
		return len(d.plain)*4/3 + 8<<10
	}
	return 64 << 10
}

// NeedsCrypto reports whether any copy of the post may differ from the plain one.
func (d *Distributor) NeedsCrypto() bool {
	return d.arrived || d.wantPGP || d.wantSMIME || d.signPGP || d.signSMIME
}

// New prepares the copies of a post by the list's distrib
// settings. For Cloister's own mail (notices, replies, forwards to owners),
// own is true: every copy is signed by the list when it has a key and
// encrypted to each recipient who has one, whatever the distrib settings.
//
// reread reads the post again: after prepare the Distributor lets go of it,
// and reads it again only for a copy that needs it (in clear, or signed).
func New(s *site.Site, list *lists.List, m *queue.Meta, post []byte, reread func() ([]byte, error), now time.Time, own bool) (*Distributor, error) {
	// A copy may go in clear only when the entry's recorded protection says
	// it carries nothing of an encrypted post.
	d := &Distributor{site: s, list: list, meta: m, plain: post, reread: reread, now: now, arrived: m.ArrivedEncrypted() || m.Confidential()}
	st := list.Settings
	d.wantPGP = st.PGPDistribEncrypt != "no" || d.arrived || own
	d.wantSMIME = st.SMIMEDistribEncrypt != "no" || d.arrived || own
	d.forcePGP = st.PGPDistribEncrypt == "force" && !own
	d.forceSMIME = st.SMIMEDistribEncrypt == "force" && !own
	d.signPGP = st.PGPDistribSign == "yes" || own
	d.signSMIME = st.SMIMEDistribSign == "yes" || own
	if !d.NeedsCrypto() {
		return d, nil
	}
	if s.Keys != nil {
		if k, err := s.Keys.ListPGP(list.Address); err == nil {
			d.pgpKey = k
		} else if !isNoListKey(err) {
			return nil, err
		}
		// With an OpenPGP key to encrypt with, S/MIME only when a
		// recipient will get an S/MIME copy: sealing a 25 MB post for no
		// one took some 100 MB (bench/memory.sh).
		if d.wantSMIME && d.wantPGP && d.pgpKey != nil && !d.smimeNeeded(m.Recipients) {
			d.wantSMIME = false
		}
		// The S/MIME key only when a copy may be signed with it: unlocking
		// it costs an Argon2id derivation (64 MiB) for nothing otherwise.
		if d.wantSMIME || d.signSMIME {
			if c, k, chain, err := s.Keys.ListSMIME(list.Address); err == nil {
				d.smimeCert, d.smimeKey, d.smimeChain = c, k, chain
			} else if !isNoListKey(err) {
				return nil, err
			}
		}
	}
	if d.pgpKey == nil {
		d.wantPGP, d.signPGP = false, false
	}
	if d.smimeCert == nil {
		d.wantSMIME, d.signSMIME = false, false
	}
	outer, head, body, err := splitPost(post, st.StripOriginalSignature)
	if err != nil {
		return nil, err
	}
	d.outer, d.innerHead, d.innerBody = outer, head, body
	return d, nil
}

// smimeNeeded reports whether a recipient has no usable OpenPGP key and an
// encryption certificate: Fill would make them an S/MIME copy.
// The keys it finds are kept for the copies (encryptionPGP): each
// recipient's key is looked up once per post, as before the scan.
func (d *Distributor) smimeNeeded(rcpts []string) bool {
	d.pgpFor = make(map[string]*openpgp.Entity, len(rcpts))
	for _, r := range rcpts {
		if k, err := d.site.Keys.EncryptionPGP(r, d.now); err == nil {
			d.pgpFor[r] = k
			continue
		}
		if _, err := d.site.Keys.EncryptionCert(r, d.now); err == nil {
			return true // the rest are looked up as their copies are made
		}
	}
	return false
}

// encryptionPGP returns the OpenPGP key to encrypt rcpt's copy to: the one
// smimeNeeded found, or the keyring's answer now.
func (d *Distributor) encryptionPGP(rcpt string) (*openpgp.Entity, error) {
	if k, ok := d.pgpFor[rcpt]; ok {
		return k, nil
	}
	return d.site.Keys.EncryptionPGP(rcpt, d.now)
}

// splitPost splits a post into its outer header (without Content-* fields
// and MIME-Version) and its MIME entity, in two pieces: the Content-*
// fields with the blank line, and the body, which is post's own bytes.
// With strip (strip_original_signature) the entity is the sender's signed
// content, whole, in body (head is nil).
func splitPost(post []byte, strip bool) (outer *mailmsg.Message, head, body []byte, err error) {
	msg, err := mailmsg.Parse(post)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %v", ErrUnreadablePost, err)
	}
	var h bytes.Buffer
	outer = &mailmsg.Message{NL: msg.NL}
	for _, f := range msg.Fields {
		name := strings.ToLower(f.Name)
		switch {
		case strings.HasPrefix(name, "content-"), strings.EqualFold(name, CoverField):
			// The cover marker travels only inside the encryption.
			h.Write(fieldBytes(f, msg.NL))
		case name == "mime-version":
		default:
			outer.Fields = append(outer.Fields, f)
		}
	}
	h.WriteString(msg.NL)
	if strip {
		entity := append(h.Bytes(), msg.Body...)
		return outer, nil, unwrapSigned(entity), nil
	}
	return outer, h.Bytes(), msg.Body, nil
}

// post returns the post as the pipeline left it, read again after prepare.
func (d *Distributor) post() ([]byte, error) {
	d.plainOnce.Do(func() {
		if d.plain == nil && d.reread != nil {
			d.plain, d.plainErr = d.reread()
		}
	})
	return d.plain, d.plainErr
}

// joined returns the concatenation of parts (for what needs the entity
// whole: S/MIME signing).
func joined(parts [][]byte) []byte {
	if len(parts) == 1 {
		return parts[0]
	}
	return bytes.Join(parts, nil)
}

// unwrapSigned returns the signed part of a multipart/signed entity, or the
// content of an opaque S/MIME signature (the sender's signature removed, for
// strip_original_signature), or the entity as it is.
func unwrapSigned(entity []byte) []byte {
	if content, ok := smime.OpaqueContent(entity); ok {
		return content
	}
	ent, err := rawmime.Parse(entity)
	if err != nil {
		return entity
	}
	mt, params, err := ent.MediaType()
	if err != nil || mt != "multipart/signed" {
		return entity
	}
	parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], 10)
	if err != nil || len(parts) != 2 {
		return entity
	}
	return parts[0]
}

func isNoListKey(err error) bool { return errors.Is(err, site.ErrNoListKey) }

func fieldBytes(f *mailmsg.Field, nl string) []byte {
	if f.Raw != nil {
		return f.Raw
	}
	return []byte(f.Name + ": " + f.Value() + nl)
}

// prepare signs and encrypts the post once; every copy shares the result.
// The post is let go of afterwards (see post).
func (d *Distributor) prepare() error {
	d.once.Do(func() {
		defer stats.Time("outgoing", `op="seal"`, time.Now())
		defer func() {
			// A large post is not held for the whole fan-out: what a copy in
			// clear needs is read again (post).
			d.innerHead, d.innerBody = nil, nil
			if d.reread != nil {
				d.plain = nil
			}
		}()
		protectedOuter := &mailmsg.Message{NL: d.outer.NL, Fields: append([]*mailmsg.Field(nil), d.outer.Fields...)}
		inner := [][]byte{d.innerHead, d.innerBody}
		if d.innerHead == nil {
			inner = inner[1:]
		}
		if d.wantPGP || d.wantSMIME {
			var shown *mailmsg.Message
			if d.list.Settings.CoverTraffic {
				shown = coverOuter(d.list.Address, d.outer, d.now)
			}
			// The header is protected on its own: the body follows it as it is.
			p, err := handlers.ProtectHeadersAs(inner[0], protectedOuter, shown)
			if err != nil {
				d.err = fmt.Errorf("protect headers: %w", err)
				return
			}
			if len(inner) == 1 {
				inner = [][]byte{p}
			} else {
				inner = [][]byte{p, d.innerBody}
			}
			if d.list.Settings.CoverTraffic {
				inner = padPartsToBucket(inner) // real copies and dummies share the buckets
			}
		}
		protectedOuter.Set("MIME-Version", "1.0")
		d.addKeyHeaders(protectedOuter)
		// Copies are made in canonical CRLF form, as the SMTP hand-off sends
		// them, so that the hand-off need not copy them again.
		var hdr bytes.Buffer
		w := &crlfWriter{w: &hdr}
		w.Write(bytes.TrimSuffix(protectedOuter.HeaderBytes(), []byte(protectedOuter.NL)))
		d.outerHeader = hdr.Bytes()
		d.headerPart = mta.NewPart(d.outerHeader)
		cfg := d.signConfig()
		if d.wantPGP {
			if d.pgpSealed, d.err = pgp.SealParts(inner, d.pgpKey, cfg); d.err != nil {
				return
			}
			// A batch's key packets name their keys unless the list hides
			// recipients: rnp 0.16, sqop and PGPy cannot open a message
			// whose key IDs are hidden (docs/subscribers.md).
			d.pgpSealed.ShowKeyIDs = !d.list.Settings.HiddenRecipients
		}
		if d.wantSMIME {
			signed, err := smime.Sign(joined(inner), d.smimeCert, d.smimeKey, d.smimeChain)
			if err != nil {
				d.err = fmt.Errorf("sign post (S/MIME): %w", err)
				return
			}
			opts := smime.SealOptions{Cipher: cms.AES256CBC}
			if d.list.Settings.SMIMECipher == "aes256-gcm" {
				opts.Cipher = cms.AES256GCM
			}
			if d.smimeSealed, d.err = smime.Seal(signed, opts); d.err != nil {
				return
			}
		}
	})
	return d.err
}

// signConfig is the configuration of the list key's signatures (and of
// the encryption sealed with them): at the post's time, or at the list
// key's own when it was made or replaced after that time was taken (a key
// is not valid before its self-signatures, pgp.KeyTime).
func (d *Distributor) signConfig() *packet.Config {
	at := pgp.KeyTime(d.pgpKey, d.now)
	return &packet.Config{Time: func() time.Time { return at }}
}

// plainCopy returns the post in clear, as bytes and as one part that
// every such copy shares (encoded for the wire once).
func (d *Distributor) plainCopy() ([]byte, []*mta.Part, error) {
	post, err := d.post()
	if err != nil {
		return nil, nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.plainPart == nil {
		d.plainPart = []*mta.Part{mta.NewPart(post)}
	}
	return post, d.plainPart, nil
}

// signedCopy returns the signed copy in clear (for a post that did not
// arrive encrypted, to a subscriber without a key), made on first use: a
// post encrypted to every subscriber never makes it. Its copies share one
// part.
func (d *Distributor) signedCopy() ([]byte, []*mta.Part, error) {
	d.signedOnce.Do(func() {
		post, err := d.post()
		if err != nil {
			d.signedErr = err
			return
		}
		_, head, body, err := splitPost(post, d.list.Settings.StripOriginalSignature)
		if err != nil {
			d.signedErr = err
			return
		}
		entity := body
		if head != nil {
			entity = append(append(make([]byte, 0, len(head)+len(body)), head...), body...)
		}
		plainOuter := &mailmsg.Message{NL: d.outer.NL, Fields: append([]*mailmsg.Field(nil), d.outer.Fields...)}
		plainOuter.Set("MIME-Version", "1.0")
		d.addKeyHeaders(plainOuter)
		cfg := d.signConfig()
		var ent []byte
		if d.signPGP {
			ent, err = pgp.SignMIME(entity, d.pgpKey, cfg)
		} else {
			ent, err = smime.Sign(entity, d.smimeCert, d.smimeKey, d.smimeChain)
		}
		if err != nil {
			d.signedErr = fmt.Errorf("sign post: %w", err)
			return
		}
		d.signedPlain = append(bytes.TrimSuffix(plainOuter.HeaderBytes(), []byte(plainOuter.NL)), ent...)
		d.signedPart = []*mta.Part{mta.NewPart(d.signedPlain)}
	})
	return d.signedPlain, d.signedPart, d.signedErr
}

// Fill makes the copy of the post for the one subscriber of u, or a
// notice when the subscriber cannot be sent the post (u.Notice). An
// OpenPGP copy is made of parts (u.Parts): the outer header and the armor
// of the encrypted body are shared by every copy and encoded for the wire
// once per post (mta.Part); only the key packets and the checksum are the
// subscriber's own. Other copies are whole messages (u.Data).
func (d *Distributor) Fill(u *Copy) {
	rcpt := u.Rcpts[0]
	if err := d.prepare(); err != nil {
		u.Err = err
		return
	}
	defer stats.Time("outgoing", `op="copy"`, time.Now())
	if d.wantPGP {
		key, kerr := d.encryptionPGP(rcpt)
		if kerr == nil {
			parts, err := d.pgpParts(key)
			if err != nil {
				u.Err = fmt.Errorf("encrypt to %s: %w", rcpt, err)
				return
			}
			u.Parts = parts
			return
		}
	}
	if d.wantSMIME {
		cert, cerr := d.site.Keys.EncryptionCert(rcpt, d.now)
		if cerr == nil {
			parts, err := d.smimeParts(cert)
			if err != nil {
				u.Err = fmt.Errorf("encrypt to %s: %w", rcpt, err)
				return
			}
			u.Parts = parts
			return
		}
	}
	switch {
	case d.arrived || d.forcePGP || d.forceSMIME:
		u.Data, u.Notice = d.noKeyNotice(rcpt), true
	case d.signPGP || d.signSMIME:
		u.Data, u.Parts, u.Err = d.signedCopy()
	default:
		u.Data, u.Parts, u.Err = d.plainCopy()
	}
}

// pgpParts returns the parts of the OpenPGP copy for keys: the shared outer
// header, the keys' own head, the shared armor of the body (one mta.Part
// per alignment, made on first use) and the keys' own trailer.
func (d *Distributor) pgpParts(keys ...*openpgp.Entity) ([]*mta.Part, error) {
	p, err := d.pgpSealed.PiecesFor(keys...)
	if err != nil {
		return nil, err
	}
	if p.SharedID < 0 {
		// A large body: its armor is written as the copy is sent.
		return []*mta.Part{d.headerPart, mta.NewPart(p.Head), mta.NewWirePart(p.SharedLen(), p.WriteShared), mta.NewPart(p.Trailer)}, nil
	}
	shared := mta.NewPart(p.Shared)
	{
		if v, ok := d.tails.Load(p.SharedID); ok {
			shared = v.(*mta.Part)
		} else if v, loaded := d.tails.LoadOrStore(p.SharedID, shared); loaded {
			shared = v.(*mta.Part)
		}
	}
	return []*mta.Part{d.headerPart, mta.NewPart(p.Head), shared, mta.NewPart(p.Trailer)}, nil
}

// smimeParts returns the parts of the S/MIME copy for certs: the shared
// outer header, the copy's own head (its RecipientInfos), and the shared
// base64 of the encrypted content (one mta.Part per alignment, made on
// first use), so that a copy holds only its head.
func (d *Distributor) smimeParts(certs ...*x509.Certificate) ([]*mta.Part, error) {
	head, tail, err := d.smimeSealed.PiecesFor(certs...)
	if err != nil {
		return nil, err
	}
	if len(tail) == 0 {
		return []*mta.Part{d.headerPart, mta.NewPart(head)}, nil
	}
	shared := mta.NewPart(tail)
	if v, loaded := d.smimeTails.LoadOrStore(&tail[0], shared); loaded {
		shared = v.(*mta.Part)
	}
	return []*mta.Part{d.headerPart, mta.NewPart(head), shared}, nil
}

// noKeyNotice tells a subscriber that a post could not be sent because no
// usable key is on file. It names no content of the post.
func (d *Distributor) noKeyNotice(rcpt string) []byte {
	n := &notices.Notice{
		List:    d.list.Address,
		From:    listaddr.Address(d.list.Address, queue.SubOwner),
		To:      rcpt,
		Subject: "A post to " + d.list.Address + " could not be sent to you",
		Body: "A post to " + d.list.Address + " is distributed encrypted only, and no usable\n" +
			"OpenPGP key or S/MIME certificate of yours is on file (or it has expired\n" +
			"or been revoked). Send your public key to the list owners at\n" +
			listaddr.Address(d.list.Address, queue.SubOwner) + " to receive posts.\n",
	}
	raw := n.Bytes(d.now)
	if d.pgpKey == nil {
		return raw
	}
	msg, err := mailmsg.Parse(raw)
	if err != nil {
		return raw
	}
	var inner bytes.Buffer
	outer := &mailmsg.Message{NL: msg.NL}
	for _, f := range msg.Fields {
		if strings.HasPrefix(strings.ToLower(f.Name), "content-") {
			inner.Write(fieldBytes(f, msg.NL))
		} else if !strings.EqualFold(f.Name, "MIME-Version") {
			outer.Fields = append(outer.Fields, f)
		}
	}
	inner.WriteString(msg.NL)
	inner.Write(msg.Body)
	ent, err := pgp.SignMIME(inner.Bytes(), d.pgpKey, d.signConfig())
	if err != nil {
		return raw
	}
	outer.Set("MIME-Version", "1.0")
	return append(bytes.TrimSuffix(outer.HeaderBytes(), []byte(outer.NL)), ent...)
}

// addKeyHeaders advertises the list's OpenPGP key on its mail: an Autocrypt
// header (the key itself, for clients that learn keys from mail) and an
// OpenPGP header (draft-josefsson-openpgp-mailnews-header: the fingerprint,
// where to ask for the key, and that the list wants mail signed and
// encrypted).
func (d *Distributor) addKeyHeaders(m *mailmsg.Message) {
	if d.pgpKey == nil {
		return
	}
	var key bytes.Buffer
	if err := d.pgpKey.Serialize(&key); err != nil {
		return
	}
	enc := base64.StdEncoding.EncodeToString(key.Bytes())
	var folded strings.Builder
	for i := 0; i < len(enc); i += 76 {
		folded.WriteString(" ")
		folded.WriteString(enc[i:min(i+76, len(enc))])
	}
	m.Set("Autocrypt", "addr="+d.list.Address+"; prefer-encrypt=mutual; keydata="+strings.TrimSpace(folded.String()))
	m.Set("OpenPGP", fmt.Sprintf("id=%X; url=mailto:%s; preference=signencrypt",
		d.pgpKey.PrimaryKey.Fingerprint, listaddr.Address(d.list.Address, queue.SubSendkey)))
}

// crlfWriter writes what it is given with every bare LF turned into CRLF.
type crlfWriter struct {
	w      *bytes.Buffer
	lastCR bool
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			c.w.Write(p)
			c.lastCR = p[len(p)-1] == '\r'
			break
		}
		prevCR := (i == 0 && c.lastCR) || (i > 0 && p[i-1] == '\r')
		c.w.Write(p[:i])
		if !prevCR {
			c.w.WriteByte('\r')
		}
		c.w.WriteByte('\n')
		c.lastCR = false
		p = p[i+1:]
	}
	return n, nil
}

// Batch makes the copies for a batch of subscribers (batch_size > 1): one
// copy for all who have an OpenPGP key, with hidden key IDs when the list
// hides recipients (so that no subscriber learns who else is in the batch)
// and visible ones otherwise; one for all with a certificate
// when the list does not hide recipients (S/MIME names each certificate);
// and one each for the rest, as Fill makes them.
func (d *Distributor) Batch(rcpts []string) []*Copy {
	if err := d.prepare(); err != nil {
		return []*Copy{{Rcpts: rcpts, Err: err}}
	}
	var out []*Copy
	var pgpRcpts, smimeRcpts, rest []string
	var pgpKeys []*openpgp.Entity
	var certs []*x509.Certificate
	for _, r := range rcpts {
		if d.wantPGP {
			if k, err := d.encryptionPGP(r); err == nil {
				pgpRcpts, pgpKeys = append(pgpRcpts, r), append(pgpKeys, k)
				continue
			}
		}
		if d.wantSMIME && !d.list.Settings.HiddenRecipients {
			if c, err := d.site.Keys.EncryptionCert(r, d.now); err == nil {
				smimeRcpts, certs = append(smimeRcpts, r), append(certs, c)
				continue
			}
		}
		rest = append(rest, r)
	}
	if len(pgpKeys) > 0 {
		parts, err := d.pgpParts(pgpKeys...)
		if err != nil {
			return []*Copy{{Rcpts: rcpts, Err: fmt.Errorf("encrypt to a batch: %w", err)}}
		}
		out = append(out, &Copy{Rcpts: pgpRcpts, Parts: parts})
	}
	if len(certs) > 0 {
		parts, err := d.smimeParts(certs...)
		if err != nil {
			return []*Copy{{Rcpts: rcpts, Err: fmt.Errorf("encrypt to a batch: %w", err)}}
		}
		out = append(out, &Copy{Rcpts: smimeRcpts, Parts: parts})
	}
	for _, r := range rest {
		u := &Copy{Rcpts: []string{r}}
		d.Fill(u)
		out = append(out, u)
	}
	return out
}

// padPartsToBucket is padToBucket for an entity in pieces (header first):
// the padding field goes in front, and no piece is copied.
func padPartsToBucket(parts [][]byte) [][]byte {
	msg, err := mailmsg.Parse(parts[0])
	if err != nil {
		return parts
	}
	n := 0
	var last byte // the last byte of the pieces so far
	for _, p := range parts {
		if len(p) == 0 {
			continue
		}
		// Bare LFs become CRLF (rawmime.Canonical). A piece's leading LF
		// is bare only if the piece before does not end in CR: a CRLF may
		// be split between two pieces.
		n += len(p) + bytes.Count(p, []byte("\n")) - bytes.Count(p, []byte("\r\n"))
		if p[0] == '\n' && last == '\r' {
			n--
		}
		last = p[len(p)-1]
	}
	want := CoverBucket(n + padMin)
	return append([][]byte{padField(want-n, msg.NL)}, parts...)
}
