package runners

import (
	"context"
	"errors"
	"time"

	"cloister/clamd"
	"cloister/lists"
	"cloister/queue"
	"cloister/rules"
)

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
	c := &clamd.Client{
		Network: network,
		Address: address,
		Timeout: time.Duration(cfg.ClamdTimeoutSeconds) * time.Second,
		MaxSize: cfg.ClamdMaxScanKB * 1024,
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
		at := j.Now.Add(time.Duration(cfg.ClamdRetrySeconds) * time.Second)
		j.Log.Warn("virus scan", "result", "scanner unavailable; post deferred", "err", err, "next_scan", at)
		return nil, &RetryError{At: at, Reason: "virus scan deferred: " + err.Error()}
	case res.Infected:
		sig := res.Signature
		if encrypted(m) {
			sig = "(not logged: the post arrived encrypted)"
		}
		j.Log.Info("virus scan", "result", "infected", "signature", sig)
		return &rules.Scan{Infected: true, Signature: res.Signature}, nil
	}
	j.Log.Info("virus scan", "result", "clean")
	return &rules.Scan{}, nil
}
