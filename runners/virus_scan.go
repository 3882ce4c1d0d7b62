package runners

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"cloister/internal/clamd"
	"cloister/internal/config"
	"cloister/internal/decision"
	"cloister/internal/refusal"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
	"cloister/queue"
	"cloister/rules"
)

// virusDeferredNote is the history line of an entry waiting for clamd.
const virusDeferredNote = "virus scan deferred: the scanner is unavailable"

// virusScan streams a post to the site's clamd (when the site names one and
// the list's virus_scan is yes) and returns the verdict for the posting
// chain's virus-scan and virus-unscanned rules, or nil when the post is not
// scanned. It runs in the rules runner: after the incoming runner decrypted
// the post and before anything holds, distributes or archives it. The
// plaintext of an encrypted post only travels over clamd's socket.
//
// When clamd gives no verdict (down, hung, garbled), the site's
// clamd_unavailable decides: defer (the default) returns a *RetryError, so
// the entry waits in the rules queue and is scanned again after
// clamd_retry_seconds without counting a failed attempt: it never passes
// unscanned and never goes to bad for an outage; accept lets it pass
// unscanned with a warning. The log names the signature found only for a
// post that arrived in clear.
func virusScan(ctx context.Context, j *Job, list *lists.List, m *queue.Meta, body []byte) (*rules.Scan, error) {
	cfg := j.Site.Config
	if cfg.ClamdSocket == "" || !list.Settings.VirusScan {
		return nil, nil
	}
	network, address, err := clamd.ParseSocket(cfg.ClamdSocket)
	if err != nil {
		return nil, err // cloister check refuses such a config; retried, then bad with the reason
	}
	// A Config built without Parse has zero values: the defaults apply (a
	// zero retry delay would spin on a down clamd).
	retry := time.Duration(cmp.Or(cfg.ClamdRetrySeconds, config.DefaultClamdRetry)) * time.Second
	c := &clamd.Client{
		Network: network,
		Address: address,
		Timeout: time.Duration(cmp.Or(cfg.ClamdTimeoutSeconds, config.DefaultClamdTimeout)) * time.Second,
		MaxSize: cmp.Or(cfg.ClamdMaxScanKB, config.DefaultClamdMaxScanKB) * 1024,
	}
	res, err := c.Scan(ctx, body)
	switch {
	case errors.Is(err, clamd.ErrTooLarge):
		j.Log.Info("virus scan", "result", "not scanned: too large", "size", len(body), "limit", c.MaxSize)
		s := &rules.Scan{TooLarge: true}
		if int64(len(body)) > c.MaxSize {
			s.Limit = c.MaxSize
		}
		return s, nil
	case err != nil && ctx.Err() != nil:
		return nil, err // stopping: the loop puts the entry back
	case err != nil && cfg.ClamdUnavailable == "accept":
		j.Log.Warn("virus scan", "result", "scanner unavailable; post passed unscanned (clamd_unavailable = accept)", "err", err)
		return nil, nil
	case err != nil:
		at := j.Now.Add(retry)
		j.Log.Warn("virus scan", "result", "scanner unavailable; post deferred", "err", err, "next_scan", at)
		// `cloister queue show` tells why the entry waits; one line per
		// outage, not one per try.
		if h := j.Meta.History; len(h) == 0 || h[len(h)-1].Note != virusDeferredNote {
			j.Meta.AddStage("rules", virusDeferredNote)
		}
		return nil, &RetryError{At: at, Reason: "virus scan deferred: " + err.Error()}
	case res.Infected:
		sig := res.Signature
		if m.ArrivedEncrypted() {
			sig = "(not logged: the post arrived encrypted)"
		}
		j.Log.Info("virus scan", "result", "infected", "signature", sig)
		return &rules.Scan{Infected: true, Signature: res.Signature}, nil
	}
	j.Log.Info("virus scan", "result", "clean")
	return &rules.Scan{}, nil
}

// scanOwnerMail scans mail to LIST-owner before the command runner forwards
// it to the owners, as the rules runner scans posts: it reports whether the
// mail may be forwarded. Infected mail, or mail too large to scan, is not
// forwarded (there is no moderation of owner mail); the sender is told,
// unless the list's virus_action is discard or the mail is automatic. The
// notice says only the fixed words of the rule, so nothing of an encrypted
// mail travels in it. A deferral is returned as the error.
func scanOwnerMail(ctx context.Context, j *Job, list *lists.List, msg *mailmsg.Message, body []byte) (bool, error) {
	scan, err := virusScan(ctx, j, list, j.Meta, body)
	if err != nil || scan == nil || (!scan.Infected && !scan.TooLarge) {
		return err == nil, err
	}
	why := refusal.Reasonf("the site's virus scanner found a virus or other malware in the mail")
	if scan.TooLarge {
		why = refusal.Reasonf("the post is larger than the site's virus scanner takes, so it was not scanned") // rules.VirusUnscanned
	}
	quiet := list.Settings.VirusAction == "discard" || notices.ShouldNotAnswer(j.Meta, msg)
	j.Log.Info("decision", "decision", decision.OwnerMailNotForwarded, "reason", why.String(), "quiet", quiet)
	if quiet {
		return false, nil
	}
	n, err := notices.ForList(j.Site, list, "owner_not_forwarded", j.Meta.Sender, map[string]any{
		"List": list.Address, "Reason": why,
	})
	if err != nil {
		return false, fmt.Errorf("owner mail notice: %w", err)
	}
	n.InReplyTo = msg.Get("Message-ID")
	j.Send(queue.Out, n.Meta("notice", j.Meta.Sender), n.Bytes(j.Now))
	return false, nil
}
