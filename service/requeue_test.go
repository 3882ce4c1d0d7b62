package service

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"cloister/queue"
)

// TestQueueRequeue: requeueing is the site's (site admins), refuses bad
// names without touching the queues, hands an entry over once and audits
// where it went.
func TestQueueRequeue(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	bad := s.Site().Queue(queue.Bad)
	id, err := bad.EnqueueBytes(&queue.Meta{From: "ann@subs.test", List: "team@lists.test"}, []byte("Subject: x\r\n\r\nbody\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		a    Actor
		req  QueueRequeueRequest
		want string
	}{
		{"an owner's token", token(t, "list:team@lists.test:owner"), QueueRequeueRequest{Queue: queue.Bad, Entries: []string{id}}, CodeForbidden},
		{"an unknown queue", Console(), QueueRequeueRequest{Queue: "nowhere", Entries: []string{id}}, CodeNotFound},
		{"an unknown destination", Console(), QueueRequeueRequest{Queue: queue.Bad, Entries: []string{id}, To: "nowhere"}, CodeNotFound},
		{"a path for a name", Console(), QueueRequeueRequest{Queue: queue.Bad, Entries: []string{"../in/" + id}}, CodeInvalid},
		{"no entry", Console(), QueueRequeueRequest{Queue: queue.Bad}, CodeInvalid},
		{"an entry that is not there", Console(), QueueRequeueRequest{Queue: queue.Bad, Entries: []string{"nosuch"}}, CodeNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.QueueRequeue(ctx, tc.a, tc.req); Code(err) != tc.want {
				t.Fatalf("QueueRequeue: %v, want code %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(bad.Dir, id+".msg")); err != nil {
				t.Fatalf("the entry left bad on a refused request: %v", err)
			}
		})
	}
	done, err := s.QueueRequeue(ctx, Console(), QueueRequeueRequest{Queue: queue.Bad, Entries: []string{id + ".msg"}, To: queue.In})
	if err != nil || len(done) != 1 || done[0].Entry != id || done[0].To != queue.In {
		t.Fatalf("QueueRequeue: %+v, %v", done, err)
	}
	if names, _ := filepath.Glob(filepath.Join(s.Site().Queue(queue.In).Dir, "*.msg")); len(names) != 1 {
		t.Fatalf("in holds %v, want the entry once", names)
	}
	log := auditLog(t, s)
	if last := log[len(log)-1]; last.Op != "queue.requeue" || last.Target != queue.Bad+"/"+id+" to "+queue.In || last.Result != "ok" {
		t.Errorf("audit entry %+v", last)
	}
}
