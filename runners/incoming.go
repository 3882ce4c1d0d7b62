package runners

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"

	"cloister/intake"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/smime"
	"cloister/queue"
)

// Bounds on the MIME structure of an incoming message (security invariant 6).
const (
	MaxMIMEDepth = 32
	MaxMIMEParts = 1000
)

// Incoming reads what deliver queued: it checks that the message can be
// parsed within bounds, records its From address, and routes it by
// subaddress: posts to the rules queue, bounces to the bounces queue,
// everything for -request, -join, -leave, -confirm, -owner and -sendkey to
// the command queue.
// Decryption and signature checks plug in here (the OpenPGP and S/MIME work).
type Incoming struct{}

// Name implements Runner.
func (Incoming) Name() string { return "incoming" }

// Queue implements Runner.
func (Incoming) Queue() string { return queue.In }

// Description implements Runner.
func (Incoming) Description() string {
	return "parse what deliver queued, check its structure, route posts to rules and the rest to command"
}

// Process implements Runner.
func (Incoming) Process(ctx context.Context, j *Job) error {
	if fi, err := os.Stat(j.Entry.Path()); err == nil && fi.Size() >= largePost {
		// A large post: the list's keys are unlocked (and kept) before it
		// is read, so that the post and its decryption take the place of
		// each unlock's Argon2id memory (64 MiB, which the keyring
		// collects) instead of coming on top of it (as outgoing does).
		// Errors are left to the steps below, which report them.
		if list, err := loadList(j.Site, j.Meta.List); err == nil && j.Site.Keys != nil && mayOpen(j) {
			j.Site.Keys.ListPGP(list.Address)
			j.Site.Keys.ListSMIME(list.Address)
		}
		// Collected once more on the way out, the GC's pace back to
		// normal: the armored post and what opening it took are garbage
		// then, and the loop's sealing of the opened post comes after;
		// without it, the heap's next goal is twice what was live at the
		// last tight collection, and the seal piles on top.
		defer runtime.GC()
		defer tightGC()()
	}
	body, err := j.Body()
	if err != nil {
		return err
	}
	msg, err := mailmsg.Parse(body)
	if err != nil {
		return Permanent("unreadable message header: %v", err)
	}
	if err := checkStructure(body); err != nil {
		return Permanent("unreadable MIME structure: %v", err)
	}
	list, err := loadList(j.Site, j.Meta.List)
	if err != nil {
		return err
	}
	m := j.Meta.Clone()
	from, ferr := msg.FromAddress()
	m.From = from
	opened, err := intake.Open(j.Site, list, m, body, func(cert []byte) { captureCert(j.Site, list, m, cert) })
	var refusal *intake.Refusal
	if errors.As(err, &refusal) {
		return refuse(j, list, m, msg, refusal)
	}
	if err != nil {
		return err
	}
	body = opened
	if m.Auth == "" {
		m.Auth = "smtp"
	}
	if m.Encryption == "" {
		m.Encryption = "none"
	}
	if m.Verdict == "" {
		m.Verdict = "none"
	}
	// What the entry carries is recorded here, where it was decrypted, and
	// travels with every entry derived from it (security invariant 2).
	m.Carries = queue.CarriesClear
	if m.ArrivedEncrypted() {
		m.Carries = queue.CarriesPlaintext
	}
	m.Lineage = &queue.Lineage{ID: m.ID, Encrypted: m.ArrivedEncrypted()}
	switch m.Subaddress {
	case queue.SubPost, "":
		if ferr != nil {
			return Permanent("post without a usable From: %v", ferr)
		}
		m.Subaddress = queue.SubPost
		m.AddStage("incoming", "post")
		j.Send(queue.Rules, m, body)
	case queue.SubBounces:
		m.AddStage("incoming", m.Subaddress)
		j.Send(queue.Bounces, m, body)
	default:
		// The reader keeps a good opaque S/MIME signature for posts;
		// commands are read from the text it signs.
		if unwrapped, ok := smime.UnwrapOpaque(body); ok {
			body = unwrapped
		}
		m.AddStage("incoming", m.Subaddress)
		j.Send(queue.Command, m, body)
	}
	j.Log.Info("routed", "subaddress", m.Subaddress, "from", from, "encryption", m.Encryption,
		"verdict", m.Verdict, "signer", m.SignerFpr, "auth", m.Auth)
	return nil
}

// checkStructure walks the MIME tree within bounds; a truncated multipart or
// nesting past MaxMIMEDepth is an error.
func checkStructure(body []byte) error {
	ent, err := rawmime.Parse(body)
	if err != nil {
		return err
	}
	if err := rawmime.Walk(ent, MaxMIMEDepth, MaxMIMEParts, func([]int, *rawmime.Entity) error { return nil }); err != nil {
		return fmt.Errorf("%w", err)
	}
	return nil
}

// peekSize is how much of an entry's body mayOpen reads.
const peekSize = 64 << 10

// mayOpen reports whether the start of the entry's body looks like mail
// intake.Open decrypts or verifies (intake.MayOpen), so that a large post
// in clear does not cost the unlocks of the list's keys. When it cannot
// tell (a sealed or unreadable body), the answer is no: intake.Open then
// unlocks as it needs, the post already read.
func mayOpen(j *Job) bool {
	if j.Entry.Meta.Sealed != nil {
		return false
	}
	r, err := j.Entry.BodyReader()
	if err != nil {
		return false
	}
	defer r.Close()
	prefix, err := io.ReadAll(io.LimitReader(r, peekSize))
	if err != nil {
		return false
	}
	return intake.MayOpen(prefix)
}
