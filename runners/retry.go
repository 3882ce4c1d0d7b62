package runners

import (
	"context"

	"cloister/queue"
)

// Retry holds deliveries the MTA deferred and hands each back to the outgoing
// queue when its next try is due.
type Retry struct{}

// Name implements Runner.
func (Retry) Name() string { return "retry" }

// Queue implements Runner.
func (Retry) Queue() string { return queue.Retry }

// Description implements Runner.
func (Retry) Description() string {
	return "hand deferred deliveries back to outgoing when their next try is due"
}

// Process implements Runner.
func (Retry) Process(ctx context.Context, j *Job) error {
	if j.Now.Before(j.Meta.NextTry) {
		return &RetryError{At: j.Meta.NextTry, Reason: "next try not due"}
	}
	body, err := j.Body()
	if err != nil {
		return err
	}
	m := j.Meta.Clone()
	m.AddStage("retry", "")
	j.Send(queue.Out, m, body)
	return nil
}
