// Package moderation is what becomes of a post once the posting chain and
// the send scenario have spoken (Decider, for the rules runner: accept,
// reject, discard, hold, ask the sender to confirm), and the decisions on
// held posts shared by the CLI, the API, the web, the email commands and
// replies to notices: approve sends the post on to the
// pipeline, reject tells the sender why, discard drops it silently. Each
// decision removes the held record last, so a crash leaves the decision to be
// made again rather than a lost post.
//
// Tokens (lists.NewToken: 160 random bits, single use, expiring) carry the
// decisions made by mail. Their actions:
//
//	send     the sender confirms a post held by request_auth (method md5)
//	approve  a moderator approves a held post by replying to its notice
//	reject   a moderator rejects a held post by mailing the notice's reject address
//
// Each arrives as mail to LIST-confirm+TOKEN@domain; the email commands hand
// the token to ConfirmPost.
//
// The runners, the email commands and the service call this package
// directly; it imports none of them.
package moderation

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cloister/internal/boltfile"
	"cloister/internal/decision"
	"cloister/internal/listaddr"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
	"cloister/ownmail"
	"cloister/queue"
	"cloister/rules"
)

// Token actions of posts.
const (
	TokenSend    = "send"
	TokenApprove = "approve"
	TokenReject  = "reject"
)

// ErrNotPostToken is returned by ConfirmPost for a token that exists but
// confirms something other than a post (a subscription, ...): the caller
// handles it. The token is left unused.
var ErrNotPostToken = errors.New("token does not confirm a post")

// Decider carries out a decision on one post: the rules runner's, once the
// posting chain and the send scenario have spoken, and a confirmed post's
// (ConfirmPost). Out stages or writes an entry for another queue; Keep
// writes the post into the held queue, and Kept then says it did.
type Decider struct {
	Site *site.Site
	List *lists.List
	Meta *queue.Meta
	Msg  *mailmsg.Message
	Body []byte
	Now  time.Time
	Log  *slog.Logger
	Out  func(q string, m *queue.Meta, body []byte) error
	Keep func(m *queue.Meta) error
	Kept bool
}

// Act carries out a scenario decision; hold, when set, is the posting
// chain's hold, which turns every action but reject and discard into a hold.
func (x *Decider) Act(d rules.Decision, hold *rules.HoldError) error {
	x.Meta.Decision = Describe(d)
	switch d.Action {
	case rules.ScenarioReject:
		return x.Reject(notices.ReasonText(d.Reason), d.Quiet, "scenario "+d.Scenario)
	case rules.ScenarioDiscard:
		return x.Discard("scenario " + Describe(d))
	}
	if hold != nil {
		return x.hold(hold.Reasons, hold.Owner || d.Action == rules.ScenarioOwner)
	}
	switch d.Action {
	case rules.ScenarioDoIt:
		return x.accept(Describe(d))
	case rules.ScenarioRequestAuth:
		if x.Meta.Auth == rules.MethodMD5 {
			return x.hold(rules.Reasons{rules.Reasonf("the sender confirmed the post, and the list's scenario %s still asks for a confirmation", d.Scenario)}, false)
		}
		return x.requestAuth(d)
	case rules.ScenarioEditorkey, rules.ScenarioEditor:
		return x.hold(rules.Reasons{rules.Reasonf("the list's moderators approve posts like this one (scenario %s)", d.Scenario)}, false)
	case rules.ScenarioOwner:
		return x.hold(rules.Reasons{rules.Reasonf("the list's owners approve posts like this one (scenario %s)", d.Scenario)}, true)
	}
	return fmt.Errorf("scenario %s: unknown action %q", d.Scenario, d.Action)
}

func (x *Decider) accept(why string) error {
	x.Meta.Decision = decision.Accept.String() + ": " + why
	x.Meta.HeldID = ""
	x.Meta.AddStage("rules", decision.Accept.String())
	x.Log.Info("decision", "decision", decision.Accept, "why", why, "from", x.Meta.From, "rule_hits", x.Meta.RuleHits)
	return x.Out(queue.Pipeline, x.Meta, x.Body)
}

// Discard drops the post without telling anyone.
func (x *Decider) Discard(why string) error {
	x.Meta.Decision = decision.Discard.String() + ": " + why
	x.Log.Info("decision", "decision", decision.Discard, "why", why, "from", x.Meta.From, "rule_hits", x.Meta.RuleHits)
	return nil
}

// Reject tells the sender why the post was refused, unless quiet or the
// post is automatic mail (RFC 3834).
func (x *Decider) Reject(reason rules.Reason, quiet bool, by string) error {
	x.Meta.Decision = decision.Reject.String() + ": " + reason.String() + " (" + by + ")"
	x.Log.Info("decision", "decision", decision.Reject, "by", by, "reason", reason.String(), "quiet", quiet, "from", x.Meta.From, "rule_hits", x.Meta.RuleHits)
	if quiet || notices.ShouldNotAnswer(x.Meta, x.Msg) {
		return nil
	}
	n, err := notices.ForList(x.Site, x.List, "reject", x.Meta.Sender, map[string]any{
		"List":         x.List.Address,
		"Subject":      notices.ClearSubject(x.Meta, x.Msg),
		"Reason":       reason,
		"OwnerAddress": listaddr.Address(x.List.Address, queue.SubOwner),
	})
	if err != nil {
		return err
	}
	n.InReplyTo = x.Msg.Get("Message-ID")
	return x.Out(queue.Out, n.MetaFrom("notice", x.Meta, false, x.Meta.Sender), n.Bytes(x.Now))
}

// heldID derives a held post's ID from its entry ID, so holding the same
// entry again (after a crash) replaces rather than duplicates.
func heldID(entryID string) string {
	sum := sha256.Sum256([]byte(entryID))
	return hex.EncodeToString(sum[:])[:12]
}

// confirmAddress is LIST-confirm+TOKEN@domain.
func confirmAddress(list, token string) string {
	return listaddr.AddressExt(list, queue.SubConfirm, token)
}

// deciders returns who decides on a held post: the moderators (the owners
// when the list has none), or the owners; the site's listmasters when the
// list has neither.
func (x *Decider) deciders(owners bool) ([]string, error) {
	var mods, own []string
	err := x.Site.Lists.View(func(tx *lists.Tx) error {
		return tx.ForEachMember(x.List.Address, func(mm *lists.Member) error {
			if mm.IsModerator() {
				mods = append(mods, mm.Address)
			}
			if mm.IsOwner() {
				own = append(own, mm.Address)
			}
			return nil
		})
	})
	switch {
	case err != nil:
		return nil, err
	case !owners && len(mods) > 0:
		return mods, nil
	case len(own) > 0:
		return own, nil
	}
	return x.Site.Config.Listmasters, nil
}

// headerSummary lists the header fields a notice about an encrypted post may
// show: addresses, date and message id, never the subject or the content.
func headerSummary(msg *mailmsg.Message) string {
	var b strings.Builder
	for _, name := range []string{"From", "To", "Cc", "Date", "Message-ID"} {
		for _, v := range msg.Values(name) {
			fmt.Fprintf(&b, "  %s: %s\n", name, mailmsg.CleanValue(v))
		}
	}
	return strings.TrimRight(b.String(), "\n")
}

// hold keeps the post for the moderators (or the owners): the message goes to
// the held queue, its record and one approve and one reject token per decider
// to the list store, and each decider gets a notice whose Reply-To approves.
// A notice about a post that arrived encrypted carries only its address
// headers (security invariant 2); about a post that arrived in clear, it
// carries the post as an attachment.
func (x *Decider) hold(reasons rules.Reasons, owners bool) error {
	reason := reasons.String()
	m := x.Meta
	id := heldID(m.ID)
	m.HeldID = id
	m.Decision = decision.Hold.String() + ": " + reason
	m.AddStage("rules", decision.Hold.String())
	if err := x.Keep(m); err != nil {
		return fmt.Errorf("write held post: %w", err)
	}
	x.Kept = true
	metaJSON, err := json.Marshal(m)
	if err != nil {
		return err
	}
	rcpts, err := x.deciders(owners)
	if err != nil {
		return err
	}
	h := &lists.Held{
		ID:      id,
		List:    m.List,
		File:    "queue/" + queue.Held + "/" + m.ID + ".msg",
		Meta:    metaJSON,
		Sender:  mailmsg.Clip(m.From, 1000),
		Subject: mailmsg.Clip(notices.ClearSubject(m, x.Msg), 1000),
		Reason:  mailmsg.Clip(reason, 1000),
		Rules:   m.RuleHits,
		// The reasons as formats, for the notices sent later (expiry, a
		// moderator's copy) in the list's language; at most the size of the
		// metadata, which already bounds what a reason quotes.
		ReasonFormat: notices.ReasonFormat(reasons),
	}
	type pair struct{ approve, reject string }
	tokens := map[string]pair{}
	err = x.Site.Lists.Update(func(tx *lists.Tx) error {
		if err := tx.PutHeld(h); err != nil {
			return err
		}
		for _, r := range rcpts {
			a := &lists.Token{List: x.List.Address, Address: r, Action: TokenApprove, Data: id, Expires: h.Expires}
			rj := &lists.Token{List: x.List.Address, Address: r, Action: TokenReject, Data: id, Expires: h.Expires}
			if err := tx.NewToken(a, 0); err != nil {
				return err
			}
			if err := tx.NewToken(rj, 0); err != nil {
				return err
			}
			tokens[r] = pair{a.Value, rj.Value}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record held post: %w", err)
	}
	x.Log.Info("decision", "decision", decision.Hold, "held_id", id, "reason", reason, "owners", owners, "from", m.From, "rule_hits", m.RuleHits)
	if len(rcpts) == 0 {
		x.Log.Warn("held post has nobody to notify", "held_id", id)
	}
	for _, r := range rcpts {
		// A moderator who can receive encrypted mail gets even an encrypted
		// post attached: the notice then travels encrypted to that key.
		attach := !m.ArrivedEncrypted() || x.canEncryptTo(r)
		data := map[string]any{
			"List":           x.List.Address,
			"HeldID":         id,
			"From":           m.From,
			"Subject":        h.Subject,
			"Reason":         reasons,
			"Rules":          strings.Join(m.RuleHits, ", "),
			"Expires":        h.Expires.UTC().Format(time.RFC1123Z),
			"ForOwners":      owners,
			"Encrypted":      m.ArrivedEncrypted(),
			"Headers":        "",
			"Attached":       attach,
			"ApproveAddress": confirmAddress(x.List.Address, tokens[r].approve),
			"RejectAddress":  confirmAddress(x.List.Address, tokens[r].reject),
		}
		if m.ArrivedEncrypted() && !attach {
			data["Headers"] = headerSummary(x.Msg)
		}
		n, err := notices.ForList(x.Site, x.List, "held", r, data)
		if err != nil {
			return err
		}
		n.ReplyTo = confirmAddress(x.List.Address, tokens[r].approve)
		if attach {
			n.Attach = x.Body
		}
		// A notice with the post attached carries what the post carries: one
		// about an encrypted post is sealed in the queues and leaves only
		// encrypted to the moderator's key (outgoing's distributor and gate).
		nm := n.MetaFrom("notice", m, attach, r)
		if err := x.Out(queue.Out, nm, n.Bytes(x.Now)); err != nil {
			return err
		}
	}
	return nil
}

// canEncryptTo reports whether the list can encrypt its mail to addr.
func (x *Decider) canEncryptTo(addr string) bool {
	return ownmail.CanEncrypt(x.Site, x.List.Address, addr, x.Now)
}

// requestAuth keeps the post and sends its From address a confirmation
// request carrying a single-use token; the post waits in the held store until
// the token is returned (ConfirmPost) or expires.
func (x *Decider) requestAuth(d rules.Decision) error {
	m := x.Meta
	if notices.ShouldNotAnswer(m, x.Msg) {
		return x.Discard("scenario " + d.Scenario + " asks automatic mail to confirm, which it cannot")
	}
	id := heldID(m.ID)
	m.HeldID = id
	m.Decision = decision.RequestAuth.String() + ": waiting for the sender to confirm (" + Describe(d) + ")"
	m.AddStage("rules", "confirmation requested")
	if err := x.Keep(m); err != nil {
		return fmt.Errorf("write post awaiting confirmation: %w", err)
	}
	x.Kept = true
	metaJSON, err := json.Marshal(m)
	if err != nil {
		return err
	}
	t := &lists.Token{List: x.List.Address, Address: m.From, Action: TokenSend, Data: id}
	err = x.Site.Lists.Update(func(tx *lists.Tx) error {
		if err := tx.NewToken(t, 0); err != nil {
			return err
		}
		return tx.PutHeld(&lists.Held{
			ID:      id,
			List:    m.List,
			File:    "queue/" + queue.Held + "/" + m.ID + ".msg",
			Meta:    metaJSON,
			Sender:  mailmsg.Clip(m.From, 1000),
			Subject: mailmsg.Clip(notices.ClearSubject(m, x.Msg), 1000),
			Reason:  "waiting for the sender to confirm the post",
			Rules:   m.RuleHits,
			Expires: t.Expires,
		})
	})
	if err != nil {
		return fmt.Errorf("record post awaiting confirmation: %w", err)
	}
	addr := confirmAddress(x.List.Address, t.Value)
	n, err := notices.ForList(x.Site, x.List, "confirm_post", m.From, map[string]any{
		"List":           x.List.Address,
		"Subject":        notices.ClearSubject(m, x.Msg),
		"ConfirmAddress": addr,
		"Expires":        t.Expires.UTC().Format(time.RFC1123Z),
	})
	if err != nil {
		return err
	}
	n.From, n.ReplyTo = addr, addr
	n.InReplyTo = x.Msg.Get("Message-ID")
	x.Log.Info("decision", "decision", decision.RequestAuth, "held_id", id, "from", m.From)
	return x.Out(queue.Out, n.MetaFrom("notice", m, false, m.From), n.Bytes(x.Now))
}

// heldLockFile is the lock, in the state directory, that every decision on
// a held post holds from its claim to its end (one decision at a time, in
// every process of the site).
const heldLockFile = "held.lock"

// lockHeld takes the held queue's decision lock. While a process holds it,
// no other decision is under way, so a claim found in the held queue was
// left by a decision killed before it ended.
func lockHeld(s *site.Site) (unlock func(), err error) {
	timeout := s.Lists.Timeout
	if timeout <= 0 {
		timeout = boltfile.DefaultTimeout
	}
	f, err := boltfile.Lock(filepath.Join(s.Config.StateDir, heldLockFile), true, timeout)
	if err != nil {
		return nil, fmt.Errorf("lock held posts: %w", err)
	}
	return func() { f.Close() }, nil
}

// heldEntry takes the decision lock and claims the held queue entry of a
// held record; the caller calls unlock once the decision is over (its
// commit made and the record removed, or the claim put back).
//
// It first recovers what decisions killed before they ended left in the
// held queue (queue.Recover: a committed decision is rolled forward, a
// claim taken before the commit point is put back), so that a decision
// killed before its commit point is made again and one killed after it
// stands. A record whose entry is gone was decided by a decision that
// committed but was killed before removing the record: the record is
// removed and ErrHeldDecided returned.
func heldEntry(s *site.Site, h *lists.Held) (e *queue.Entry, unlock func(), err error) {
	locked, err := lockHeld(s)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			locked()
		}
	}()
	name := strings.TrimSuffix(filepath.Base(h.File), ".msg")
	held := s.Queue(queue.Held)
	// Interrupted decisions are not failures of the post: it stays held
	// under its name however often they were (no attempts counted).
	recovered, err := held.RecoverInPlace()
	if err != nil {
		return nil, nil, fmt.Errorf("held post %s: recover interrupted decisions: %w", h.ID, err)
	}
	if recovered > 0 {
		s.Log.Warn("recovered interrupted decisions on held posts", "recovered", recovered, "list", h.List)
	}
	e, err = held.Claim(name)
	if errors.Is(err, queue.ErrGone) {
		s.Log.Warn("finished an interrupted decision on a held post", "held_id", h.ID, "list", h.List)
		if derr := s.Lists.Update(func(tx *lists.Tx) error { return tx.DeleteHeld(h.ID) }); derr != nil {
			return nil, nil, derr
		}
		return nil, nil, fmt.Errorf("held post %s: %w", h.ID, ErrHeldDecided)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("held post %s: %w", h.ID, err)
	}
	return e, locked, nil
}

// release puts a claimed held entry back when a decision failed half-way.
func release(s *site.Site, e *queue.Entry) {
	if err := s.Queue(queue.Held).Put(e, e.Meta, time.Time{}); err != nil {
		s.Log.Error("put held post back failed", "entry", e.Name, "err", err)
	}
}

func heldRecord(s *site.Site, id string) (*lists.Held, error) {
	var h *lists.Held
	err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		h, err = tx.Held(id)
		return err
	})
	return h, err
}

// staged collects the entries a decision on a claimed held post hands over;
// commitHeld writes them and removes the claim in one exactly-once step
// (queue.Commit), so a kill at any point neither loses the decision nor
// makes it twice.
type staged struct {
	s    *site.Site
	base string // names entries without an ID: base-1, base-2, ...
	n    int
	outs []queue.Output
}

// send stages an entry for queue q (sealed when m says the post arrived
// encrypted); it fits decider.out.
func (st *staged) send(q string, m *queue.Meta, body []byte) error {
	if m.ID == "" {
		st.n++
		m.ID = fmt.Sprintf("%s-%d", st.base, st.n)
	}
	b, err := st.s.SealBody(m, body)
	if err != nil {
		return err
	}
	st.outs = append(st.outs, queue.Output{Queue: st.s.Queue(q), Meta: m, Body: bytes.NewReader(b)})
	return nil
}

// commitHeld hands a claimed held entry's outputs over and removes the
// claim, exactly once. A commit that failed after its commit point is
// finished here (Resume), or else by the next decision on the post
// (heldEntry): the decision stands either way.
func commitHeld(s *site.Site, e *queue.Entry, outs []queue.Output) error {
	held := s.Queue(queue.Held)
	err := held.Commit(e, outs)
	if errors.Is(err, queue.ErrCommitted) {
		if rerr := held.Resume(e); rerr != nil {
			s.Log.Warn("decision on held post committed but not finished; the next decision finishes it", "entry", e.Name, "err", rerr)
		}
		return nil
	}
	return err
}

// ErrHeldDecided means a decision on the held post was made already, by a
// process killed before it finished; that decision was finished instead.
var ErrHeldDecided = errors.New("held post was decided already (an interrupted decision was finished)")

// errSealed wraps a failure to open a sealed held entry (no queue key, or
// another one than sealed it).
var errSealed = errors.New("held post is sealed at rest and cannot be opened here")

// heldBody returns the plaintext bytes of a claimed held entry. Held
// entries of posts that arrived encrypted are sealed at rest (security
// invariant 2); the site's queue key opens them.
func heldBody(s *site.Site, e *queue.Entry) ([]byte, error) {
	b, err := e.Body()
	if err != nil {
		return nil, err
	}
	pt, err := s.OpenBody(e.Meta, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", e.Name, errSealed, err)
	}
	return pt, nil
}

// outcome is what a decision on a claimed held post hands over: the
// entries it stages, the decision log line's value and attributes (none
// for a decision that logs itself), and whether the post is held again (its
// record stays, replaced by the decision).
type outcome struct {
	outs     []queue.Output
	decision decision.Decision
	attrs    []any
	keep     bool
}

// decideHeld makes one decision on held post h, as every decision does:
// it takes the decision lock and claims the entry (heldEntry: finishing
// first what an interrupted decision left), lets decide stage the
// outcome, hands the outputs over and removes the claim exactly once
// (commitHeld), closes the outputs' bodies, logs the decision and removes
// the record. When decide or the commit fails the claim is put back and
// the post stays held. An error of the claim itself is returned as it is
// (ErrHeldDecided among them), before decide is called.
func decideHeld(s *site.Site, h *lists.Held, decide func(e *queue.Entry) (outcome, error)) error {
	e, unlock, err := heldEntry(s, h)
	if err != nil {
		return err
	}
	defer unlock()
	o, err := decide(e)
	if err == nil {
		err = commitHeld(s, e, o.outs)
	}
	for _, out := range o.outs {
		if c, ok := out.Body.(io.Closer); ok {
			c.Close()
		}
	}
	if err != nil {
		release(s, e)
		return err
	}
	if o.decision != 0 {
		s.Log.Info("decision", append([]any{"decision", o.decision, "held_id", h.ID, "list", h.List}, o.attrs...)...)
	}
	if o.keep {
		return nil
	}
	return s.Lists.Update(func(tx *lists.Tx) error { return tx.DeleteHeld(h.ID) })
}

// Approve sends a held post on to the pipeline.
func Approve(s *site.Site, id, by string) error {
	h, err := heldRecord(s, id)
	if err != nil {
		return err
	}
	return decideHeld(s, h, func(e *queue.Entry) (outcome, error) {
		m := e.Meta.Clone()
		m.Decision = decision.Approved.String() + " by " + by
		m.HeldID = ""
		m.AddStage("moderation", decision.Approved.String()+" by "+by)
		r, err := e.BodyReader()
		if err != nil {
			return outcome{}, err
		}
		return outcome{outs: []queue.Output{{Queue: s.Queue(queue.Pipeline), Meta: m, Body: r}},
			decision: decision.Approved, attrs: []any{"by", by}}, nil
	})
}

// Reject drops a held post and sends its sender a notice with the reason.
func Reject(s *site.Site, id, reason, by string) error {
	h, err := heldRecord(s, id)
	if err != nil {
		return err
	}
	return decideHeld(s, h, func(e *queue.Entry) (outcome, error) {
		why := rules.Verbatim(reason)
		if reason == "" {
			why = rules.Reasonf("the moderators declined it")
		}
		outs, err := senderNotice(s, h, e, "rejected", "-rejected", map[string]any{"Reason": why})
		// Not the reason in the log: a moderator may have written it in an
		// encrypted mail.
		return outcome{outs: outs, decision: decision.Reject, attrs: []any{"by", by, "reason_given", reason != ""}}, err
	})
}

// senderNotice stages the template name to the sender of a held post (its
// envelope sender, else its From), unless the post is automatic mail. data
// gets List, Subject (empty for a post that arrived encrypted) and
// OwnerAddress added.
func senderNotice(s *site.Site, h *lists.Held, e *queue.Entry, name, idSuffix string, data map[string]any) ([]queue.Output, error) {
	list, err := loadList(s, h.List)
	if err != nil {
		return nil, err
	}
	body, err := heldBody(s, e)
	if err != nil {
		return nil, err
	}
	msg, err := mailmsg.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("held post %s: %w", h.ID, err)
	}
	to := e.Meta.Sender
	if to == "" {
		to = h.Sender
	}
	if notices.ShouldNotAnswer(&queue.Meta{Sender: to, List: h.List}, msg) {
		return nil, nil
	}
	data["List"] = list.Address
	data["Subject"] = notices.ClearSubject(e.Meta, msg)
	data["OwnerAddress"] = listaddr.Address(list.Address, queue.SubOwner)
	n, err := notices.ForList(s, list, name, to, data)
	if err != nil {
		return nil, err
	}
	n.InReplyTo = msg.Get("Message-ID")
	nm := n.MetaFrom("notice", e.Meta, false, to)
	nm.ID = e.Meta.ID + idSuffix
	return []queue.Output{{Queue: s.Queue(queue.Out), Meta: nm, Body: bytes.NewReader(n.Bytes(time.Now()))}}, nil
}

// Discard drops a held post without telling anyone.
func Discard(s *site.Site, id, by string) error {
	h, err := heldRecord(s, id)
	if err != nil {
		return err
	}
	return decideHeld(s, h, func(*queue.Entry) (outcome, error) {
		return outcome{decision: decision.Discard, attrs: []any{"by", by}}, nil
	})
}

// ConfirmPost acts on a token returned to LIST-confirm+TOKEN: a sender's
// confirmation of a post held by request_auth (the send scenario is
// evaluated again with method md5, and the post goes wherever it decides),
// or a moderator's approve or reject of a held post. The token is spent
// first, so a second use is refused (lists.ErrTokenUsed), as is an expired
// one (lists.ErrTokenExpired) or an unknown one (lists.ErrNoToken); a token
// for another action is left unused and ErrNotPostToken returned.
func ConfirmPost(s *site.Site, token string) error {
	var t *lists.Token
	err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		t, err = tx.Token(token)
		return err
	})
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	switch t.Action {
	case TokenSend, TokenApprove, TokenReject:
	default:
		return fmt.Errorf("confirm: token for %q: %w", t.Action, ErrNotPostToken)
	}
	err = s.Lists.Update(func(tx *lists.Tx) error {
		var err error
		t, err = tx.UseToken(token)
		return err
	})
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	by := t.Address + " (token)"
	switch t.Action {
	case TokenApprove:
		return Approve(s, t.Data, by)
	case TokenReject:
		return Reject(s, t.Data, "", by)
	}
	return confirmSend(s, t)
}

// confirmSend evaluates the send scenario again, with method md5, for the
// post that a token of action send confirms.
func confirmSend(s *site.Site, t *lists.Token) error {
	h, err := heldRecord(s, t.Data)
	if err != nil {
		return fmt.Errorf("confirm: %w", err)
	}
	if h.List != t.List {
		return fmt.Errorf("confirm: token of %s for a post to %s", t.List, h.List)
	}
	claimed := false
	err = decideHeld(s, h, func(e *queue.Entry) (outcome, error) {
		claimed = true
		return confirmEntry(s, e, t)
	})
	if err != nil && !claimed {
		return fmt.Errorf("confirm: %w", err)
	}
	return err
}

// confirmEntry decides again on the claimed entry of a post its sender
// confirmed; the Decider logs the decision.
func confirmEntry(s *site.Site, e *queue.Entry, t *lists.Token) (outcome, error) {
	body, err := heldBody(s, e)
	if err != nil {
		return outcome{}, err
	}
	msg, err := mailmsg.Parse(body)
	if err != nil {
		return outcome{}, fmt.Errorf("held post %s: %w", t.Data, err)
	}
	list, err := loadList(s, e.Meta.List)
	if err != nil {
		return outcome{}, err
	}
	m := e.Meta.Clone()
	m.Sealed = nil // body is the plaintext now; the staged outputs are sealed as written
	m.Auth = rules.MethodMD5
	m.HeldID = ""
	m.AddStage("moderation", "confirmed by "+t.Address)
	d, err := EvaluateSend(s, list, m, msg, len(body))
	if err != nil {
		return outcome{}, err
	}
	st := &staged{s: s, base: m.ID + "-confirmed"}
	x := &Decider{
		Site: s, List: list, Meta: m, Msg: msg, Body: body, Now: time.Now(),
		Log: s.Log.With("entry", m.ID, "list", list.Address),
		Out: st.send,
		// Held again: the entry is rewritten under its name (sealed again
		// when the post arrived encrypted) and its record replaced.
		Keep: func(hm *queue.Meta) error { return st.send(queue.Held, hm, body) },
	}
	if err := x.Act(d, nil); err != nil {
		return outcome{}, err
	}
	return outcome{outs: st.outs, keep: x.Kept}, nil
}

// Expired counts what ExpireHeld removed.
type Expired struct {
	Held   int // held posts dropped
	Tokens int // tokens purged (expired more than ExpiredTokenKeep ago)
}

// ExpiredTokenKeep is how long a token is kept after it expired: an answer
// that comes that late is refused as expired ("send the request again"),
// not as an unknown token. Only then is the token purged.
const ExpiredTokenKeep = 7 * 24 * time.Hour

// ExpireHeld drops the held posts whose expiry (held_expire_days after they
// were held, or the confirmation token's expiry for a post awaiting its
// sender's confirmation) is not after now, telling each sender, except the
// senders who never confirmed; then it purges the tokens that expired more
// than ExpiredTokenKeep before now. `cloister held expire` runs it; run it
// daily (`cloister runners` runs it when it starts and every hour).
func ExpireHeld(s *site.Site, now time.Time) (Expired, error) {
	var out Expired
	var expired []*lists.Held
	err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		expired, err = tx.ExpiredHeld(now)
		return err
	})
	if err != nil {
		return out, err
	}
	var errs []error
	for _, h := range expired {
		if err := expireOne(s, h); err != nil {
			errs = append(errs, fmt.Errorf("expire held post %s: %w", h.ID, err))
			continue
		}
		out.Held++
	}
	err = s.Lists.Update(func(tx *lists.Tx) error {
		var err error
		out.Tokens, err = tx.PurgeTokens(now.Add(-ExpiredTokenKeep))
		return err
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("purge tokens: %w", err))
	}
	return out, errors.Join(errs...)
}

// expireOne drops one expired held post, telling its sender unless the post
// waited for the sender's confirmation.
func expireOne(s *site.Site, h *lists.Held) error {
	err := decideHeld(s, h, func(e *queue.Entry) (outcome, error) {
		o := outcome{decision: decision.Expired, attrs: []any{"sender", h.Sender}}
		if strings.HasPrefix(e.Meta.Decision, decision.RequestAuth.String()) {
			return o, nil
		}
		list, err := loadList(s, h.List)
		if err != nil {
			return outcome{}, err
		}
		data := map[string]any{"Reason": notices.HeldReason(h), "Days": list.Settings.HeldExpireDays}
		o.outs, err = senderNotice(s, h, e, "expired", "-expired", data)
		return o, err
	})
	if errors.Is(err, ErrHeldDecided) {
		return nil // decided before it expired; its record is gone now
	}
	return err
}

// HeldHeaders returns the metadata of a held post and the header fields an
// operator may see without deciding on it (`cloister held show`): the whole
// header section of a post that arrived in clear, only the address, date and
// message-id fields of one that arrived encrypted (security invariant 2).
// The entry is read, not claimed.
func HeldHeaders(s *site.Site, h *lists.Held) (*queue.Meta, string, error) {
	name := strings.TrimSuffix(filepath.Base(h.File), ".msg")
	f, err := os.Open(filepath.Join(s.Queue(queue.Held).Dir, name+".msg"))
	if err != nil {
		return nil, "", fmt.Errorf("held post %s: %w", h.ID, err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	line, err := r.ReadSlice('\n')
	if err != nil {
		return nil, "", fmt.Errorf("held post %s: metadata: %w", h.ID, err)
	}
	m := new(queue.Meta)
	if err := json.Unmarshal(line, m); err != nil {
		return nil, "", fmt.Errorf("held post %s: metadata: %w", h.ID, err)
	}
	var src io.Reader = r
	if m.Sealed != nil {
		sealed, err := io.ReadAll(r)
		if err != nil {
			return m, "", fmt.Errorf("held post %s: %w", h.ID, err)
		}
		pt, err := s.OpenBody(m, sealed)
		if err != nil {
			return m, "(sealed at rest: headers not shown)", nil
		}
		src = bytes.NewReader(pt)
	}
	head, err := io.ReadAll(io.LimitReader(src, mailmsg.MaxHeaderBytes))
	if err != nil {
		return m, "", fmt.Errorf("held post %s: %w", h.ID, err)
	}
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i+1]
	} else if i := bytes.Index(head, []byte("\r\n\r\n")); i >= 0 {
		head = head[:i+2]
	}
	msg, err := mailmsg.Parse(append(head, '\n'))
	if err != nil {
		return m, "", fmt.Errorf("held post %s: %w", h.ID, err)
	}
	if m.ArrivedEncrypted() {
		return m, headerSummary(msg), nil
	}
	return m, strings.TrimRight(string(msg.HeaderBytes()), "\r\n"), nil
}
