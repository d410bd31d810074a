package storelogic

import (
	"fmt"
	"time"

	"github.com/parleybot/parley"
)

// Person is what the consent rules know of the person a prompt is for.
type Person struct {
	Handle, TimeZone string
	OptedOut, NoBot  bool
}

// ConsentLookups read the rest from the store, inside the transaction
// that would queue the prompt; each runs only when the rules before it
// let the prompt through.
type ConsentLookups struct {
	// SameAsk returns the draft of an earlier prompt to the person with
	// the request's ask, found false when there is none.
	SameAsk func() (draftID int64, found bool, err error)
	// Prompts counts the person's prompts waiting (pending, approved,
	// sending) or sent after since, how many of them wait, and when the
	// oldest of those sent went out (zero for none).
	Prompts func(since time.Time) (n, waiting int, oldestSent time.Time, err error)
	// LastNegative returns when the person last posted something
	// negative after since and at or before at (zero for never).
	LastNegative func(since, at time.Time) (time.Time, error)
}

// CheckConsent applies the consent rules to a prompt for p at at, in
// order: opted out, #nobot, the same ask twice, the cap per period, the
// cooldown after a negative post, quiet hours. The first that refuses is
// returned as a *parley.ConsentError; a lookup's error as is.
func CheckConsent(req parley.PromptRequest, pol parley.ConsentPolicy, at time.Time, p Person, look ConsentLookups) error {
	refuse := func(reason string, until time.Time, format string, args ...any) error {
		return &parley.ConsentError{Reason: reason, Until: until,
			Msg: fmt.Sprintf("no prompt for @%s: ", p.Handle) + fmt.Sprintf(format, args...)}
	}
	if p.OptedOut {
		return refuse(parley.RefusedOptedOut, time.Time{}, "they opted out of prompts")
	}
	if p.NoBot {
		return refuse(parley.RefusedNoBot, time.Time{}, "their profile asks bots to leave them alone (#nobot)")
	}
	prev, found, err := look.SameAsk()
	if err != nil {
		return err
	}
	if found {
		return refuse(parley.RefusedSameAsk, time.Time{}, "they were already asked %q (draft %d)", req.Ask, prev)
	}
	if pol.MaxPrompts <= 0 {
		return refuse(parley.RefusedCap, time.Time{}, "prompts are off (the cap is 0)")
	}
	n, waiting, oldestSent, err := look.Prompts(at.Add(-pol.Per))
	if err != nil {
		return err
	}
	if n >= pol.MaxPrompts {
		var until time.Time
		if waiting == 0 && !oldestSent.IsZero() {
			until = oldestSent.Add(pol.Per)
		}
		return refuse(parley.RefusedCap, until, "they already have %d prompt(s) waiting or sent in the last %s (the cap is %d)",
			n, Days(pol.Per), pol.MaxPrompts)
	}
	if pol.Cooldown > 0 {
		last, err := look.LastNegative(at.Add(-pol.Cooldown), at)
		if err != nil {
			return err
		}
		if !last.IsZero() {
			until := last.Add(pol.Cooldown)
			return refuse(parley.RefusedCooldown, until, "they posted something negative on %s; the %s cooldown ends %s",
				last.Format("2006-01-02 15:04 MST"), Days(pol.Cooldown), until.Format("2006-01-02 15:04 MST"))
		}
	}
	if until, zone, quiet := parley.QuietUntil(at, p.TimeZone, pol); quiet {
		return refuse(parley.RefusedQuietHours, until, "it is quiet hours for them (%s); the prompt waits until %s",
			zone, until.In(until.Location()).Format("2006-01-02 15:04 MST"))
	}
	return nil
}
