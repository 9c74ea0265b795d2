package dbgen

import (
	"fmt"
	"sync"
)

// dbgen builds every comment from one 300 MiB pool of pseudo-English made
// from the dists.dss grammar (TPC-H 4.2.2.10): comments are random windows
// of it. The pool comes from a single stream, so it is built once,
// sequentially, and shared read-only by every generator in the process.

const (
	textPoolSize = 300 * 1024 * 1024
	textPoolSeed = 933588178
	// maxSentenceLn is the room kept after the pool's end for the last
	// sentence, which may run past it (sentences are far shorter).
	maxSentenceLn = 1024
)

var (
	poolOnce sync.Once
	pool     []byte
)

// textPool returns the shared pool, building it on first use (about a
// second of one core, 300 MiB that stay allocated for the process).
func textPool() []byte {
	poolOnce.Do(func() { pool = buildTextPool(allocPool(textPoolSize + maxSentenceLn)) })
	return pool
}

// grammarToken is one step of a parsed grammar production.
type grammarToken uint8

const (
	tokNoun grammarToken = iota
	tokVerb
	tokAdjective
	tokAdverb
	tokArticle
	tokAuxiliary
	tokComma
	tokNounPhrase
	tokVerbPhrase
	tokPrepPhrase
	tokTerminator
)

// wordSlot is a word followed by its separator (a space, or " the "
// after a preposition), padded to a fixed size so that writing it is one
// fixed-size copy instead of a call to memmove.
type wordSlot struct {
	b [32]byte
	n int
}

// wordList is a distribution prepared for the pool builder.
type wordList struct {
	pick    []uint16
	weights int32
	words   []wordSlot
}

func newWordList(d *distribution, suffix string) (*wordList, error) {
	w := &wordList{pick: d.pick, weights: d.weights, words: make([]wordSlot, len(d.values))}
	for i, v := range d.values {
		s := v + suffix
		if len(s) > len(w.words[i].b) {
			return nil, fmt.Errorf("word %q of %q is too long for the text pool builder", v, d.name)
		}
		copy(w.words[i].b[:], s)
		w.words[i].n = len(s)
	}
	return w, nil
}

// put writes a random word at buf[pos:] and returns the position after
// it; buf must have 32 bytes of room at pos.
func (w *wordList) put(buf []byte, pos int, r *rowRand) int {
	slot := &w.words[w.pick[r.nextInt(0, w.weights-1)]]
	*(*[32]byte)(buf[pos : pos+32]) = slot.b
	return pos + slot.n
}

// textGrammar is the grammar with each production pre-tokenised.
type textGrammar struct {
	sentences, nounPhrases, verbPhrases          [][]grammarToken
	sentencePick, nounPhrasePick, verbPhrasePick *distribution
	words                                        [tokAuxiliary + 1]*wordList
	prepositions, terminators                    *wordList
}

func newTextGrammar(d *distributions) (*textGrammar, error) {
	g := &textGrammar{sentencePick: d.grammar, nounPhrasePick: d.nounPhrases, verbPhrasePick: d.verbPhrases}
	var err error
	for _, w := range []struct {
		dst    **wordList
		d      *distribution
		suffix string
	}{
		{&g.words[tokNoun], d.nouns, " "},
		{&g.words[tokVerb], d.verbs, " "},
		{&g.words[tokAdjective], d.adjectives, " "},
		{&g.words[tokAdverb], d.adverbs, " "},
		{&g.words[tokArticle], d.articles, " "},
		{&g.words[tokAuxiliary], d.auxiliaries, " "},
		{&g.prepositions, d.prepositions, " the "},
		{&g.terminators, d.terminators, " "},
	} {
		if *w.dst, err = newWordList(w.d, w.suffix); err != nil {
			return nil, err
		}
	}
	// Sentences and verb phrases are read one symbol every other byte
	// ("N V T"); noun phrases symbol by symbol, with ',' meaning a comma
	// after the previous word ("J, J N").
	if g.sentences, err = tokenise(d.grammar, true, map[byte]grammarToken{'N': tokNounPhrase, 'V': tokVerbPhrase, 'P': tokPrepPhrase, 'T': tokTerminator}); err != nil {
		return nil, err
	}
	if g.verbPhrases, err = tokenise(d.verbPhrases, true, map[byte]grammarToken{'D': tokAdverb, 'V': tokVerb, 'X': tokAuxiliary}); err != nil {
		return nil, err
	}
	if g.nounPhrases, err = tokenise(d.nounPhrases, false, map[byte]grammarToken{'A': tokArticle, 'J': tokAdjective, 'D': tokAdverb, 'N': tokNoun, ',': tokComma}); err != nil {
		return nil, err
	}
	return g, nil
}

func tokenise(d *distribution, everyOther bool, symbols map[byte]grammarToken) ([][]grammarToken, error) {
	out := make([][]grammarToken, len(d.values))
	for i, v := range d.values {
		step := 1
		if everyOther {
			step = 2
		}
		for j := 0; j < len(v); j += step {
			if !everyOther && v[j] == ' ' {
				continue
			}
			t, ok := symbols[v[j]]
			if !ok {
				return nil, fmt.Errorf("grammar %q: unknown symbol %q in %q", d.name, v[j], v)
			}
			out[i] = append(out[i], t)
		}
	}
	return out, nil
}

// buildTextPool fills buf with grammar text and returns it truncated to
// len(buf)-maxSentenceLn bytes (the slack takes the last sentence's end).
func buildTextPool(buf []byte) []byte {
	g, err := newTextGrammar(dists)
	if err != nil {
		panic("dbgen: embedded dists.dss grammar: " + err.Error())
	}
	r := newRowRand(textPoolSeed, 1<<31-1)
	size := len(buf) - maxSentenceLn
	pos := 0
	for pos < size {
		pos = g.sentence(buf, pos, &r)
	}
	return buf[:size:size]
}

// sentence writes one sentence and its trailing space at buf[pos:] and
// returns the position after it. Every word is written with its trailing
// space; a comma or a terminator replaces the space before it.
func (g *textGrammar) sentence(buf []byte, pos int, r *rowRand) int {
	for _, t := range g.sentences[g.sentencePick.random(r)] {
		switch t {
		case tokVerbPhrase:
			for _, w := range g.verbPhrases[g.verbPhrasePick.random(r)] {
				pos = g.words[w].put(buf, pos, r)
			}
		case tokNounPhrase:
			pos = g.nounPhrase(buf, pos, r)
		case tokPrepPhrase:
			pos = g.prepositions.put(buf, pos, r)
			pos = g.nounPhrase(buf, pos, r)
		case tokTerminator:
			pos = g.terminators.put(buf, pos-1, r)
		}
	}
	return pos
}

func (g *textGrammar) nounPhrase(buf []byte, pos int, r *rowRand) int {
	for _, t := range g.nounPhrases[g.nounPhrasePick.random(r)] {
		if t == tokComma {
			buf[pos-1] = ','
			buf[pos] = ' '
			pos++
			continue
		}
		pos = g.words[t].put(buf, pos, r)
	}
	return pos
}
