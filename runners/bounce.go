package runners

import (
	"context"

	"cloister/listaddr"
	"cloister/queue"
)

// Bounce reads what comes back to LIST-bounces: it names the subscriber
// from the VERP address and records the bounce in the decision log. Encrypted
// content of a bounce is never forwarded in clear: nothing is forwarded.
type Bounce struct{}

// Name implements Runner.
func (Bounce) Name() string { return "bounce" }

// Queue implements Runner.
func (Bounce) Queue() string { return queue.Bounces }

// Description implements Runner.
func (Bounce) Description() string {
	return "record bounces to LIST-bounces, naming the subscriber from the VERP address"
}

// Process implements Runner.
func (Bounce) Process(ctx context.Context, j *Job) error {
	rcpt, ok := listaddr.UnVERP(j.Meta.Extension)
	if !ok {
		rcpt = ""
	}
	j.Log.Info("decision", "decision", "bounce recorded", "subscriber", rcpt, "from", j.Meta.Sender)
	return nil
}
