package sentiment

// SlangLexicon is the praise slang and product-failure phrasing of
// customers talking about gear, which labelled tweets and Reddit comments
// teach a model too weakly or the wrong way round ("these wheels are
// insane" is praise; "my trucks snapped" is a complaint). New applies it
// to English posts under any brand lexicon, so `parley classify` without a
// config and the rules agree. Longer phrases win over the words in them,
// which keeps the everyday senses ("sick of", "I'm sick") negative; and an
// entry only breaks ties (see Options.NoSlang): in tweets and Reddit
// comments "sick", "insane" and "no way" are negative more often than not,
// so they may make a neutral post positive but never a negative one.
var SlangLexicon = Lexicon{
	// Praise slang.
	"insane":         2.5,
	"insanely":       1.5,
	"wild":           2.0,
	"slaps":          2.5,
	"slapped":        1.5,
	"sick":           2.5,
	"no way":         1.5,
	"can't stop":     2.0,
	"cant stop":      2.0,
	"goated":         3.0,
	"bussin":         2.5,
	"dope":           2.5,
	"unreal":         2.0,
	"obsessed":       2.0,
	"fire":           1.5,
	"lit":            1.5,
	"crazy good":     3.0,
	"hits different": 2.5,
	"game changer":   2.5,
	"gamechanger":    2.5,
	"so good":        2.0,
	// Praise by negated complaint, which the model reads as complaint.
	"can't complain": 2.0,
	"cant complain":  2.0,
	"no complaints":  2.0,
	// The everyday senses of the praise words.
	"sick of":        -2.5,
	"sick and tired": -3.0,
	"i'm sick":       -2.0,
	"im sick":        -2.0,
	"am sick":        -2.0,
	"feel sick":      -2.0,
	"feeling sick":   -2.0,
	"got sick":       -2.0,
	"no way to":      -1.5,
	"on fire":        -1.0,
	"caught fire":    -3.0,
	"wild goose":     -1.0,
	// Product failure.
	"snapped":            -2.5,
	"broke after":        -3.0,
	"broke on":           -2.5,
	"broken":             -2.5,
	"never arrived":      -3.0,
	"never came":         -2.5,
	"hasn't arrived":     -2.5,
	"hasnt arrived":      -2.5,
	"still hasn't":       -2.0,
	"still waiting":      -2.5,
	"still no":           -2.0,
	"stopped working":    -3.0,
	"fell apart":         -3.0,
	"falling apart":      -3.0,
	"cracked":            -2.0,
	"delaminated":        -2.5,
	"chipped":            -1.5,
	"defective":          -3.0,
	"wrong size":         -1.5,
	"wrong item":         -2.0,
	"no reply":           -2.0,
	"no response":        -2.0,
	"no answer":          -1.5,
	"waste of money":     -3.0,
	"want a refund":      -2.5,
	"want my money back": -3.0,
	"ripped off":         -3.0,
	"rip off":            -3.0,
	"ripoff":             -3.0,
}
