package digest

import (
	"strings"
	"testing"
	"time"
)

func adviceTexts(d *Digest) string {
	var b strings.Builder
	for _, a := range advise(d) {
		b.WriteString(a.Text)
		b.WriteString("\n")
	}
	return b.String()
}

func TestAdviceVolumeFallSaysPercent(t *testing.T) {
	d := &Digest{AsOf: time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)}
	d.Volume.PrevTotal, d.Volume.Total = 40, 0
	got := adviceTexts(d)
	if !strings.Contains(got, "Mentions fell 100% to 0:") {
		t.Errorf("advice = %q, want %q", got, "Mentions fell 100% to 0:")
	}
	d.Volume.PrevTotal, d.Volume.Total = 40, 10
	if got := adviceTexts(d); !strings.Contains(got, "Mentions fell 75% to 10:") {
		t.Errorf("advice = %q, want %q", got, "Mentions fell 75% to 10:")
	}
}

func TestAdviceNotCalmWhileDraftsWait(t *testing.T) {
	asOf := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	d := &Digest{AsOf: asOf}
	d.Response.Pending, d.Response.OldestPending = 232, asOf.Add(-2*time.Hour)
	got := adviceTexts(d)
	if strings.Contains(got, "Nothing is waiting") {
		t.Errorf("advice says nothing waits while 232 drafts wait:\n%s", got)
	}
	d.Response.Pending = 0
	if got := adviceTexts(d); !strings.Contains(got, "Nothing is waiting") {
		t.Errorf("an empty queue and no waiting thread should be calm, got:\n%s", got)
	}
}

func TestAdviceNoReplyAtAll(t *testing.T) {
	asOf := time.Date(2026, 11, 9, 0, 0, 0, 0, time.UTC)
	d := &Digest{AsOf: asOf}
	d.Response.Mentions, d.Response.Replied = 55, 0
	d.Response.Pending, d.Response.OldestPending = 3, asOf.Add(-time.Hour)
	got := adviceTexts(d)
	if strings.Contains(got, "Only 0 of") {
		t.Errorf("advice = %q", got)
	}
	if !strings.Contains(got, "None of the 55 mentions got a reply yet: 3 drafts wait for approval") {
		t.Errorf("advice = %q", got)
	}
	d.Response.Replied = 5
	if got := adviceTexts(d); !strings.Contains(got, "Only 5 of 55 mentions got a reply") {
		t.Errorf("advice = %q", got)
	}
}
