package sentiment

import (
	"math/rand/v2"
	"strings"
)

// benchCorpus builds n varied posts (fixed seed) from fragments written for
// these benchmarks: praise, complaints, questions, news-like lines, slang,
// emoji, emoticons, links, handles, hashtags, ALL CAPS and elongations, and
// about 3% posts in other languages. Distinct texts keep the weight lookups
// from all hitting the CPU cache, as real traffic would.
func benchCorpus(n int) []string {
	r := rand.New(rand.NewPCG(42, 7))
	pick := func(s []string) string { return s[r.IntN(len(s))] }
	openers := []string{"", "", "", "@parley_shop ", "@skatecrew ", "RT @news: ", "omg ", "Honestly ", "ok so ", "lol ", "Just saying, "}
	subjects := []string{"the new board", "my order", "customer service", "the app", "your store on main street",
		"the spring collection", "shipping to canada", "the refund", "this hoodie", "the event last night",
		"the v2 trucks", "the website", "your support team", "the new colours", "the price", "delivery",
		"the staff", "the update", "my package", "the sale"}
	preds := []string{"is amazing", "is sooo good", "is the best thing ever", "was great, thank you",
		"is really disappointing", "is broken again", "is the worst", "took three weeks", "never arrived",
		"is ok I guess", "is not bad at all", "is not good", "could be better", "is AWESOME", "sucks",
		"made my day", "is a total joke", "works fine", "is on sale until friday", "was delivered today",
		"is expensive but worth it", "looks nice but feels cheap", "is exactly what I needed",
		"keeps crashing", "is coming back next week", "was announced yesterday"}
	tails := []string{"", "", "", "!", "!!!", ".", "...", "?", " :)", " :(", " <3", " &amp; more", " 😍", " 😡",
		" 🔥🔥", " 👍🏽", " 💔", " ❤️", " 😂😂", " #skatelife", " #fail", " http://t.co/abc123", " smh", " lol",
		" can't wait", " never again", " thanks!", " any ideas?"}
	questions := []string{"does the %s come in blue?", "when does %s open?", "is %s available online?",
		"anyone tried %s?", "how long does %s take?"}
	foreign := []string{"Me encanta este producto, es el mejor que he comprado",
		"J'adore ce magasin, le personnel est vraiment gentil", "Das ist das schlechteste Produkt, das ich je gekauft habe",
		"Il servizio clienti è stato molto gentile, grazie", "Não gostei nada da entrega, muito lenta",
		"この商品は最高です", "Это лучший магазин в городе"}
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		switch k := r.IntN(100); {
		case k < 3:
			b.WriteString(pick(foreign))
		case k < 15:
			b.WriteString(pick(openers))
			b.WriteString(strings.Replace(pick(questions), "%s", pick(subjects), 1))
		default:
			b.WriteString(pick(openers))
			for s := 0; s < 1+r.IntN(3); s++ {
				if s > 0 {
					b.WriteString(pick([]string{" and ", ". ", ", but ", " - ", " so "}))
				}
				b.WriteString(pick(subjects))
				b.WriteString(" ")
				b.WriteString(pick(preds))
			}
			b.WriteString(pick(tails))
			b.WriteString(pick(tails))
		}
		out[i] = b.String()
	}
	return out
}
