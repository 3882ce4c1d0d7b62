package runners

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cloister/archive"
	"cloister/bounce"
	"cloister/internal/decision"
	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
	"cloister/queue"
)

// Bounce reads what comes back to LIST-bounces. The signed VERP address
// (LIST-bounces+TAG-member=domain@..., bounce.Secret.Address) names the
// subscriber a post was sent to; the report itself (package bounce: RFC 3464
// DSNs and the common text bounces) says whether delivery failed for good.
// Only a report from the null sender to a bounce address whose MAC verifies
// and has not expired counts, and only for the subscriber that address was
// made for: anyone can mail LIST-bounces, so anything else (a forged DSN, a
// report to the plain LIST-bounces address or to an address made up or
// older than bounce.VERPDays) is logged and dropped, never scored. Each UTC
// day with a permanent failure adds one to the member's bounce score; at the
// list's bounce_threshold delivery is disabled and the owners are told.
// Delays, auto-replies and unrecognised mail score nothing. Nothing of a
// bounce is ever forwarded (the returned message may hold the plaintext of
// an encrypted post): the owners' notice names the address, the score and
// the status code, and, for lists without encryption, the remote server's
// reply.
type Bounce struct{}

// Name implements Runner.
func (Bounce) Name() string { return "bounce" }

// Queue implements Runner.
func (Bounce) Queue() string { return queue.Bounces }

// Description implements Runner.
func (Bounce) Description() string {
	return "score members from the authenticated bounces to LIST-bounces and disable delivery at the list's bounce_threshold"
}

// Process implements Runner.
func (Bounce) Process(ctx context.Context, j *Job) error {
	rcpt, why, err := bounceSubscriber(j)
	if errors.Is(err, lists.ErrNoList) {
		return Permanent("list %s no longer exists", j.Meta.List)
	}
	if err != nil {
		return err
	}
	if why != "" {
		j.Log.Info("decision", "decision", decision.BounceNotScored, "from", j.Meta.Sender, "reason", why)
		return nil
	}
	body, err := j.Body()
	if err != nil {
		return err
	}
	if err := j.Site.Lists.View(func(tx *lists.Tx) error {
		list, err := tx.List(j.Meta.List)
		if err != nil {
			return err
		}
		if h := bounceDropHeader(list, body); h != "" {
			why = "its " + h + " field matches bounces_drop_on_headers"
		}
		return nil
	}); errors.Is(err, lists.ErrNoList) {
		return Permanent("list %s no longer exists", j.Meta.List)
	} else if err != nil {
		return err
	}
	if why != "" {
		j.Log.Info("decision", "decision", decision.BounceDropped, "subscriber", rcpt, "from", j.Meta.Sender, "reason", why)
		return nil
	}
	rep, perr := bounce.Parse(body)
	format, failed := "", []bounce.Recipient(nil)
	if perr == nil {
		format, failed = rep.Format, rep.Failed()
	}
	j.Log.Info("decision", "decision", decision.BounceRecorded, "subscriber", rcpt, "from", j.Meta.Sender,
		"format", format, "failed", len(failed))
	if perr != nil || len(failed) == 0 {
		reason := "no permanent failure in the report"
		if perr != nil {
			reason = perr.Error()
		}
		j.Log.Info("decision", "decision", decision.BounceNotScored, "subscriber", rcpt, "reason", reason)
		return nil
	}
	// The signed address names the subscriber whatever address the report
	// names (forwarding rewrites it); the report's own addresses are never
	// taken, since they are whatever its writer chose.
	type hit struct{ addr, status, diag string }
	f := failed[0]
	for _, x := range failed {
		if x.Address == rcpt {
			f = x
		}
	}
	hits := []hit{{rcpt, f.Status, f.Diagnostic}}
	for _, h := range hits {
		err := scoreBounce(j, j.Meta.List, h.addr, h.status, h.diag)
		if errors.Is(err, lists.ErrNoList) {
			return Permanent("list %s no longer exists", j.Meta.List)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// scoreBounce counts a permanent delivery failure of addr on the list (from
// a delivery report, or a 5xx refusal in the outgoing runner's own SMTP
// session) and, when it disables the member's delivery, stages a notice to
// the list's owners. An address not on the roster is not scored; a list
// that no longer exists is lists.ErrNoList.
func scoreBounce(j *Job, listAddr, addr, status, diag string) error {
	h := struct{ addr, status, diag string }{addr, status, diag}
	var res *lists.BounceResult
	var list *lists.List
	var owners []string
	err := j.Site.Lists.Update(func(tx *lists.Tx) error {
		var err error
		if list, err = tx.List(listAddr); err != nil {
			return err
		}
		if res, err = tx.RecordBounce(list.Address, h.addr, j.Now, h.status); err != nil {
			return err
		}
		if res.Disabled {
			return tx.ForEachMember(list.Address, func(m *lists.Member) error {
				if m.IsOwner() {
					owners = append(owners, m.Address)
				}
				return nil
			})
		}
		return nil
	})
	switch {
	case errors.Is(err, lists.ErrNoList):
		return err
	case errors.Is(err, lists.ErrNoMember):
		j.Log.Info("decision", "decision", decision.BounceNotScored, "subscriber", h.addr, "reason", "not a member")
		return nil
	case err != nil:
		return err
	}
	j.Log.Info("decision", "decision", decision.BounceScored, "subscriber", h.addr, "score", res.Member.Bounces.Score,
		"counted", res.Counted, "status", h.status, "delivery_disabled", res.Disabled)
	if !res.Disabled {
		return nil
	}
	if len(owners) == 0 {
		owners = j.Site.Config.Listmasters
	}
	if len(owners) == 0 {
		j.Log.Warn("delivery disabled by bounces, and the list has no owner to tell", "subscriber", h.addr)
		return nil
	}
	said := ""
	if !archive.MayBeEncrypted(list.Settings) {
		said = mailmsg.Clip(h.diag, 300)
	}
	n, nerr := notices.ForList(j.Site, list, "bounce_disabled", strings.Join(owners, ", "), map[string]any{
		"List": list.Address, "Address": res.Member.Address, "Score": res.Member.Bounces.Score,
		"Threshold": res.Threshold, "Status": h.status, "Diagnostic": said,
		"RequestAddress": listaddr.Address(list.Address, queue.SubRequest),
	})
	if nerr != nil {
		return fmt.Errorf("bounce notice: %w", nerr)
	}
	m := n.Meta("notice", owners...)
	m.ID = fmt.Sprintf("%s-bounce-%d", j.Meta.ID, len(j.outs))
	j.Send(queue.Out, m, n.Bytes(j.Now))
	return nil
}

// bounceSubscriber returns the member a bounce authenticates, or why it
// counts for nobody (err is for failures retrying may fix).
func bounceSubscriber(j *Job) (rcpt, why string, err error) {
	if j.Meta.Sender != "" {
		return "", "envelope sender is not null (delivery reports come from <>)", nil
	}
	if j.Meta.Extension == "" {
		return "", "sent to the plain bounce address, which names no subscriber", nil
	}
	sec, err := j.Site.BounceSecret()
	if err != nil {
		return "", "", fmt.Errorf("check bounce address: %w", err)
	}
	members := func() ([]string, error) {
		var all []string
		err := j.Site.Lists.View(func(tx *lists.Tx) error {
			return tx.ForEachMember(j.Meta.List, func(m *lists.Member) error {
				all = append(all, m.Address)
				return nil
			})
		})
		return all, err
	}
	rcpt, err = sec.Verify(j.Meta.List, j.Meta.Extension, j.Now, members)
	switch {
	case errors.Is(err, bounce.ErrNoVERP), errors.Is(err, bounce.ErrBadMAC), errors.Is(err, bounce.ErrExpired):
		return "", err.Error(), nil
	case err != nil:
		return "", "", err
	}
	return rcpt, "", nil
}
