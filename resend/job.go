package resend

import (
	"log/slog"
	"time"

	"cloister/internal/site"
	"cloister/queue"
)

// Job is what Run needs of the pipeline runner's job: the site, the job's
// logger and time, and Send, which stages an entry for another queue (the
// runner's Job.Send).
type Job struct {
	Site *site.Site
	Log  *slog.Logger
	Now  time.Time
	Send func(queueName string, meta *queue.Meta, body []byte)
}
