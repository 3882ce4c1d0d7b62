package commands

import (
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloister/internal/listaddr"
	"cloister/internal/site"
	"cloister/keyring"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/mailtext"
	"cloister/notices"
	"cloister/queue"
	"cloister/replay"
	"cloister/rules"
)

// MaxReplyBytes bounds the text of one reply.
const MaxReplyBytes = 256 << 10

// Request is one command mail as the command runner hands it over.
type Request struct {
	Site *site.Site
	List *lists.List
	// Meta is the entry's metadata: subaddress, extension (the token of
	// LIST-confirm+TOKEN), From, and what the incoming runner found (Auth,
	// Encryption, Verdict, signer).
	Meta *queue.Meta
	// Body is the opened message (decrypted when it arrived encrypted).
	Body      []byte
	Now       time.Time
	Scenarios *rules.ScenarioSet
	KeyStore  KeyStore
	// Replay is the site's replay store: a signature counts once, in one
	// context (a post or a command mail, of any list).
	Replay *replay.Store
}

// Outcome is what a command mail produced: the messages to send (the reply
// first) and one line per command for the log.
type Outcome struct {
	Mail    []Outgoing
	Summary []string
	// NoReply says why nothing was answered (automatic mail), if so.
	NoReply string
}

// Handle carries out the commands of one command mail and writes the reply.
func Handle(r *Request) (*Outcome, error) {
	msg, err := mailmsg.Parse(r.Body)
	if err != nil {
		return nil, fmt.Errorf("command mail: %w", err)
	}
	out := &Outcome{}
	if why := notices.Automatic(r.Meta, msg); why != "" {
		out.NoReply = why
		return out, nil
	}
	sender := r.Meta.From
	if sender == "" {
		if sender, err = msg.FromAddress(); err != nil || sender == "" {
			sender = r.Meta.Sender
		}
	}
	if sender == "" {
		out.NoReply = "no sender address"
		return out, nil
	}
	encrypted := r.Meta.ArrivedEncrypted()
	c := &Context{
		Site: r.Site, List: r.List, Sender: sender, Method: r.Meta.Auth,
		Encrypted: encrypted, Signed: r.Meta.Verdict == "good", SignerFpr: r.Meta.SignerFpr,
		Body: r.Body, Now: r.Now, KeyStore: r.KeyStore, Scenarios: r.Scenarios, Header: msg.Values,
	}
	if c.Method == "" {
		c.Method = rules.MethodSMTP
	}
	c.MailMethod, c.MailFrom = c.Method, sender
	c.requests = new(int)
	c.catalog() // loaded once, shared by the lines (each runs on a copy of c)
	for _, a := range r.Meta.SignerAddresses {
		if sameAddress(a, sender) {
			c.Signer = a
		}
	}

	parsed, perr := Parse(r.Body)
	if parsed == nil {
		parsed = &Parsed{}
	}
	switch r.Meta.Subaddress {
	case queue.SubJoin:
		parsed.Lines = []Line{{Text: "subscribe (mail to " + listaddr.Address(r.List.Address, queue.SubJoin) + ")", Word: "subscribe"}}
	case queue.SubLeave:
		parsed.Lines = []Line{{Text: "unsubscribe (mail to " + listaddr.Address(r.List.Address, queue.SubLeave) + ")", Word: "unsubscribe"}}
	case queue.SubConfirm:
		parsed.Lines = []Line{{Text: "confirm (mail to " + confirmAddress(r.List.Address, "...") + ")", Word: "confirm", Args: []string{r.Meta.Extension}}}
	case queue.SubSendkey:
		parsed.Lines = []Line{{Text: "key get (mail to " + listaddr.Address(r.List.Address, queue.SubSendkey) + ")", Word: "key", Args: []string{"get"}}}
	default:
		parsed.Lines = subjectOnlyIfNeeded(parsed.Lines)
	}

	var notes []string
	if perr != nil && !errors.Is(perr, ErrNoText) {
		notes = append(notes, c.tr("Part of your message could not be read: %s", clipLine(perr.Error())))
	}
	refuseAll := ""
	if c.Method == rules.MethodPGP || c.Method == rules.MethodSMIME {
		sig := SignatureOf(r.Body, r.Meta.SignerFpr)
		maxAge := time.Duration(r.List.Settings.SignedCommandMaxAgeDays) * 24 * time.Hour
		tooOld := !sig.Created.IsZero() && r.Now.Sub(sig.Created) > maxAge
		var prev *replay.Sighting
		if r.Replay != nil && !tooOld { // too old is refused (or not counted) anyway
			id := r.Meta.SignatureID
			if id == "" { // queued before signatures carried an identity
				id = "digest:" + sig.Digest
			}
			signed := r.Meta.SignatureTime
			if signed.IsZero() {
				signed = sig.Created
			}
			where := "command to " + listaddr.Address(r.List.Address, r.Meta.Subaddress)
			if prev, err = r.Replay.Check(id, r.Meta.ID, where, signed, r.Now); err != nil {
				return nil, err
			}
		}
		switch {
		case prev != nil && prev.Forgotten:
			refuseAll = c.tr("the signature is too old for the list to tell whether it was used before; sign the commands again")
		case prev != nil: // seen in any context: a post or a command, to any list of the site
			refuseAll = c.tr("this signed message was received before; a signature authorizes commands once (sign them again to repeat them)")
		case r.Meta.Subaddress != queue.SubConfirm && // LIST-confirm+TOKEN: the token names the list
			!namesList(parsed.ListName, r.List.Address) && !signedHeadersNameList(r.Body, r.List.Address):
			notes = append(notes, c.tr("Your signature was not counted: a signed command mail must name its list\n"+
				"inside the signed text with the line\n  x-list-name %s", r.List.Address))
			c.Method = rules.MethodSMTP
		case tooOld:
			refuseAll = c.tr("the signature is older than %d days; sign the commands again", r.List.Settings.SignedCommandMaxAgeDays)
		}
	}
	c.Attachments = attachments(r.Body)
	c.Certificates = certAttachments(r.Body)
	c.Autocrypt = autocryptKey(r.Body, c.Sender)

	type item struct {
		line Line
		res  Result
	}
	var items []item
	for _, l := range parsed.Lines {
		lc := *c
		lc.out, lc.attach = nil, nil
		lc.Rest = l.Rest
		if l.Subject {
			lc.Method, lc.MailMethod = rules.MethodSMTP, rules.MethodSMTP
		}
		var res Result
		cmd, ok := Lookup(l.Word)
		switch {
		case !ok:
			res = Result{Status: Unknown, Text: c.tr("not a command; send \"help\" for the list of commands")}
		case refuseAll != "":
			res = refused("%s", refuseAll)
		default:
			var ok bool
			if res, ok = adminOnly(&lc, cmd); ok {
				res = cmd.Run(&lc, l.Args)
			}
			notifyKeyword(&lc, cmd, l, res)
		}
		res = c.translate(res)
		c.out = append(c.out, lc.out...)
		c.attach = append(c.attach, lc.attach...)
		items = append(items, item{l, res})
		out.Summary = append(out.Summary, summaryLine(l, cmd, res, encrypted))
	}

	// The reply: in full when the command mail arrived in clear, or when it
	// arrived encrypted with a good signature bound to From and the reply
	// is encrypted to that signer; otherwise without any of its content
	// (an encrypted mail resent under another From must not come back
	// decrypted: the list is no decryption oracle).
	var full strings.Builder
	full.WriteString(c.tr("Results of your message to %s:\n", listaddr.Address(r.List.Address, r.Meta.Subaddress)))
	for _, it := range items {
		fmt.Fprintf(&full, "\n> %s\n", it.line.Text)
		if it.line.Subject {
			full.WriteString(c.tr("  (from the Subject line: taken as unsigned)\n"))
		}
		fmt.Fprintf(&full, "  %s", it.res.Status)
		if it.res.Text != "" {
			full.WriteString(": " + indent(it.res.Text))
		}
		full.WriteByte('\n')
		if full.Len() > MaxReplyBytes {
			full.WriteString(c.tr("\n(the rest of the results is left out: the reply is too long)\n"))
			break
		}
	}
	if len(items) == 0 {
		full.WriteString(c.tr("\nNo commands were found. Send \"help\" for the list of commands.\n"))
	}
	if parsed.Ignored > 0 {
		full.WriteString(c.tr("\n%d more lines were not read: at most %d commands are carried out per message.\n", parsed.Ignored, MaxCommands))
	}
	for _, n := range notes {
		full.WriteString("\n" + n + "\n")
	}
	var short strings.Builder
	short.WriteString(c.tr(contentFreeIntro))
	for _, it := range items {
		if cmd, ok := Lookup(it.line.Word); ok {
			fmt.Fprintf(&short, "  %s: %s\n", cmd.Name(), it.res.Status)
		}
	}

	keys, err := loadListKeys(r.Site, r.List.Address)
	if err != nil {
		return nil, err
	}
	preferSMIME := r.Meta.Encryption == "smime" || r.Meta.Auth == rules.MethodSMIME
	subject := replySubject(mailmsg.DecodeHeader(msg.Get("Subject")))
	if encrypted || subject == "" {
		subject = c.tr("Results of your commands to %s", r.List.Address)
	}
	reply := &message{
		List: r.List.Address, From: listaddr.Address(r.List.Address, queue.SubRequest), To: sender,
		Subject: subject, InReplyTo: msg.Get("Message-ID"), Body: full.String(), Attach: c.attach,
	}
	data, enc, err := protect(r.Site, keys, reply, r.Now, preferSMIME)
	if err != nil {
		return nil, err
	}
	confidential := encrypted || c.attachConfidential
	if encrypted && (!enc || !signedByFrom(r.Meta, c.Signer)) {
		reply.Body, reply.Attach = short.String(), nil
		if data, _, err = protect(r.Site, keys, reply, r.Now, preferSMIME); err != nil {
			return nil, err
		}
		confidential = false // the short reply names no command and no result
	}
	out.Mail = append(out.Mail, Outgoing{To: sender, Kind: "reply", Data: data, Sealed: enc, Confidential: confidential})
	for _, p := range c.out {
		d, enc, err := protect(r.Site, keys, p.m, r.Now, preferSMIME)
		if err != nil {
			return nil, err
		}
		out.Mail = append(out.Mail, Outgoing{To: p.m.To, Kind: p.kind, Data: d, Sealed: enc})
	}
	return out, nil
}

// subjectOnlyIfNeeded drops a Subject command when the body holds a known
// command (people write "subscribe" in both).
func subjectOnlyIfNeeded(ls []Line) []Line {
	if len(ls) == 0 || !ls[0].Subject {
		return ls
	}
	for _, l := range ls[1:] {
		if _, ok := Lookup(l.Word); ok {
			return ls[1:]
		}
	}
	return ls
}

// namesList reports whether an x-list-name value names the list (its
// address or its local part).
func namesList(v, list string) bool {
	if v == "" {
		return false
	}
	v = strings.Trim(v, "<>")
	return strings.EqualFold(v, list) || strings.EqualFold(v, listaddr.LocalPart(list))
}

// signedHeadersNameList reports whether the signed part of a top-level
// multipart/signed carries a protected To field naming the list's request
// address. The posting address does not count: a signed post is not a
// command mail, and resent to LIST-request it must not act with its
// author's authority.
func signedHeadersNameList(msg []byte, list string) bool {
	ent, err := rawmime.Parse(msg)
	if err != nil {
		return false
	}
	mt, params, _ := ent.MediaType()
	if mt != "multipart/signed" {
		return false
	}
	parts, _ := rawmime.SplitMultipart(ent.Body, params["boundary"], maxParts)
	if len(parts) == 0 {
		return false
	}
	inner, err := rawmime.Parse(parts[0])
	if err != nil {
		return false
	}
	for _, v := range inner.Fields.Values("To") {
		as, err := mailmsg.ParseAddressList(v)
		if err != nil {
			continue
		}
		for _, a := range as {
			if sameAddress(a.Address, listaddr.Address(list, queue.SubRequest)) {
				return true
			}
		}
	}
	return false
}

func indent(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

// attachments returns the decoded parts of a command mail that may hold a
// key: application/pgp-keys parts, and text parts holding a public key block
// (at most 4, 64 KiB each), or a key revocation signature alone (as sq key
// generate writes it).
func attachments(msg []byte) [][]byte {
	ent, err := rawmime.Parse(msg)
	if err != nil {
		return nil
	}
	var out [][]byte
	_ = rawmime.Walk(ent, maxDepth, maxParts, func(_ []int, p *rawmime.Entity) error {
		if len(out) >= 4 {
			return nil
		}
		mt, _, _ := p.MediaType()
		if mt != "application/pgp-keys" && mt != "text/plain" && mt != "" && mt != "application/octet-stream" && mt != "application/pgp-signature" {
			return nil
		}
		b, err := decode(p)
		if err != nil || len(b) > 64<<10 {
			return nil
		}
		if mt == "application/pgp-keys" || strings.Contains(string(b), "-----BEGIN PGP PUBLIC KEY BLOCK-----") || isBareRevocation(b) {
			out = append(out, b)
		}
		return nil
	})
	return out
}

// welcome sends a new member the list's help, signed with the list key and
// carrying the list's public key when it has one. Its text is the welcome
// template, in the list's language (package mailtext).
func (c *Context) welcome(addr string) {
	m := &message{List: c.List.Address, From: listaddr.Address(c.List.Address, queue.SubOwner), To: addr}
	data := map[string]any{"List": c.List.Address, "Help": c.helpText(),
		"PGPFingerprint": "", "CertName": "", "CertFingerprint": ""}
	k, err := loadListKeys(c.Site, c.List.Address)
	if err == nil && k.pgp != nil {
		if pub, err := armoredPublic(k.pgp); err == nil {
			m.Attach = append(m.Attach, attachment{Type: "application/pgp-keys", Name: c.List.LocalPart() + ".asc", Data: pub})
			data["PGPFingerprint"] = fmt.Sprintf("%X", k.pgp.PrimaryKey.Fingerprint)
		}
	}
	if err == nil && k.cert != nil {
		p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw})
		m.Attach = append(m.Attach, attachment{Type: "application/x-pem-file", Name: c.List.LocalPart() + ".pem", Data: p})
		data["CertName"], data["CertFingerprint"] = certName(k.cert), keyring.CertFingerprint(k.cert)
	}
	m.Subject, m.Body = c.render("welcome", data)
	c.send(m, "welcome")
}

// render renders one of the texts the commands mail from its template for
// the list (its overrides and language). A broken site or list override is
// logged and the built-in English text is sent instead, so that a template
// error never loses the message.
func (c *Context) render(name string, data map[string]any) (subject, body string) {
	subject, body, err := mailtext.Render(mailtext.Dirs(c.Site.Config.StateDir, c.List.Address), c.List.Settings.Language, name, data)
	if err == nil {
		return subject, body
	}
	c.Site.Log.Error("template", "list", c.List.Address, "template", name, "err", err)
	subject, body, err = mailtext.Render(nil, "en", name, data)
	if err != nil {
		// The built-in templates are checked by TestBuiltinTemplatesRender.
		c.Site.Log.Error("built-in template", "template", name, "err", err)
		return "Message from " + c.List.Address, ""
	}
	return subject, body
}
