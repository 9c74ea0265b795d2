package dbgen

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// distsDSS is the TPC-H kit's dists.dss: the weighted word lists that
// dbgen draws names, types, flags and comment text from.
//
//go:embed dists.dss
var distsDSS string

// distribution is one named list of dists.dss. For most lists the weights
// bias a random pick; the nations list abuses them as running deltas whose
// cumulative sum is each nation's region key.
type distribution struct {
	name   string
	values []string
	// cumulative[i] is the sum of the weights of values[0..i].
	cumulative []int32
	// pick maps each unit of the total weight to its value index, so a
	// weighted draw is one lookup. Nil when a weight is not positive (the
	// list cannot be drawn from).
	pick    []uint16
	maxLen  int
	weights int32
}

// random draws a weighted value index with r, as dbgen's pick_str does.
func (d *distribution) random(r *rowRand) int {
	return int(d.pick[r.nextInt(0, d.weights-1)])
}

// distributions holds the lists the generator uses.
type distributions struct {
	nations, regions                     *distribution
	colors, types, containers            *distribution
	segments, priorities                 *distribution
	returnFlags, instructions, shipModes *distribution
	grammar, nounPhrases, verbPhrases    *distribution
	nouns, verbs, adjectives, adverbs    *distribution
	articles, prepositions, auxiliaries  *distribution
	terminators                          *distribution
}

// dists is parsed once from the embedded file; a malformed embedded file
// is a build defect caught by the package tests, hence the panic.
var dists = mustLoadDistributions(distsDSS)

func mustLoadDistributions(text string) *distributions {
	d, err := loadDistributions(text)
	if err != nil {
		panic("dbgen: embedded dists.dss: " + err.Error())
	}
	return d
}

// loadDistributions parses dists.dss text and picks the lists dbgen uses.
func loadDistributions(text string) (*distributions, error) {
	all, err := parseDistributions(text)
	if err != nil {
		return nil, err
	}
	get := func(name string, drawable bool) (*distribution, error) {
		d, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("distribution %q is missing", name)
		}
		if drawable && d.pick == nil {
			return nil, fmt.Errorf("distribution %q has a weight that is not positive", name)
		}
		return d, nil
	}
	out := &distributions{}
	for _, f := range []struct {
		dst      **distribution
		name     string
		drawable bool
	}{
		{&out.nations, "nations", false},
		{&out.regions, "regions", true},
		{&out.colors, "colors", true},
		{&out.types, "p_types", true},
		{&out.containers, "p_cntr", true},
		{&out.segments, "msegmnt", true},
		{&out.priorities, "o_oprio", true},
		{&out.returnFlags, "rflag", true},
		{&out.instructions, "instruct", true},
		{&out.shipModes, "smode", true},
		{&out.grammar, "grammar", true},
		{&out.nounPhrases, "np", true},
		{&out.verbPhrases, "vp", true},
		{&out.nouns, "nouns", true},
		{&out.verbs, "verbs", true},
		{&out.adjectives, "adjectives", true},
		{&out.adverbs, "adverbs", true},
		{&out.articles, "articles", true},
		{&out.prepositions, "prepositions", true},
		{&out.auxiliaries, "auxillaries", true},
		{&out.terminators, "terminators", true},
	} {
		d, err := get(f.name, f.drawable)
		if err != nil {
			return nil, err
		}
		*f.dst = d
	}
	if len(out.nations.values) != 25 || len(out.regions.values) != 5 {
		return nil, fmt.Errorf("expected 25 nations and 5 regions, found %d and %d", len(out.nations.values), len(out.regions.values))
	}
	if len(out.colors.values) > 255 {
		return nil, fmt.Errorf("distribution colors has %d values, at most 255 are supported", len(out.colors.values))
	}
	return out, nil
}

// parseDistributions reads the "BEGIN name / value|weight / END name"
// blocks of dists.dss. Names are case-insensitive and stored lowercase
// (the kit spells some blocks "begin" and "BEGIN"); a later block of the
// same name replaces an earlier one. The "count" entry must match the
// number of values.
func parseDistributions(text string) (map[string]*distribution, error) {
	all := make(map[string]*distribution)
	var cur *distribution
	count := -1
	for n, line := range strings.Split(text, "\n") {
		lineNo := n + 1
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Fields(line)
		keyword := strings.ToLower(fields[0])
		if cur == nil {
			if keyword != "begin" || len(fields) != 2 {
				return nil, fmt.Errorf("line %d: expected \"BEGIN <name>\", found %q", lineNo, line)
			}
			cur = &distribution{name: strings.ToLower(fields[1])}
			count = -1
			continue
		}
		if keyword == "end" {
			if len(cur.values) == 0 {
				return nil, fmt.Errorf("line %d: distribution %q has no values", lineNo, cur.name)
			}
			if count != len(cur.values) {
				return nil, fmt.Errorf("line %d: distribution %q declares count %d but has %d values", lineNo, cur.name, count, len(cur.values))
			}
			cur.finish()
			all[cur.name] = cur
			cur = nil
			continue
		}
		value, rest, ok := strings.Cut(line, "|")
		if !ok {
			return nil, fmt.Errorf("line %d: expected \"value|weight\" in distribution %q, found %q", lineNo, cur.name, line)
		}
		if i := strings.IndexByte(rest, '#'); i >= 0 {
			rest = rest[:i]
		}
		w, err := strconv.ParseInt(strings.TrimSpace(rest), 10, 32)
		if err != nil {
			return nil, fmt.Errorf("line %d: bad weight in distribution %q: %q", lineNo, cur.name, rest)
		}
		if strings.EqualFold(value, "count") {
			count = int(w)
			continue
		}
		cur.values = append(cur.values, value)
		cur.cumulative = append(cur.cumulative, int32(w))
	}
	if cur != nil {
		return nil, fmt.Errorf("distribution %q has no END", cur.name)
	}
	return all, nil
}

// finish turns the raw weights into running sums and builds the pick table.
func (d *distribution) finish() {
	drawable := true
	var sum int32
	for i, w := range d.cumulative {
		if w <= 0 {
			drawable = false
		}
		sum += w
		d.cumulative[i] = sum
		d.maxLen = max(d.maxLen, len(d.values[i]))
	}
	d.weights = sum
	if !drawable || len(d.values) > 1<<16 {
		return
	}
	d.pick = make([]uint16, 0, sum)
	prev := int32(0)
	for i, c := range d.cumulative {
		for ; prev < c; prev++ {
			d.pick = append(d.pick, uint16(i))
		}
	}
}
