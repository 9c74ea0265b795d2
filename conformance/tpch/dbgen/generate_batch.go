package dbgen

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Constants of dbgen's tables (TPC-H 4.2.3). The streams' seeds are
// dbgen's, written where each stream is made.
const (
	suppliersPerPart = 4
	linesPerOrderMax = 7

	// Dates are generated as dbgen's day numbers: 92001 is 1992-01-01 and
	// the range spans 2557 days to 1998-12-31. Orders are placed up to
	// 151 days (the longest ship plus receipt delay) before its end.
	minGenerateDate = 92001
	totalDateRange  = 2557
	orderDateMax    = minGenerateDate + totalDateRange - (shipDateMax + receiptDateMax) - 1
	// currentDate (1995-06-17, day 1263 of the range) separates shipped
	// from open line items and returned from not-returned ones.
	currentDate = minGenerateDate + 1263
	// unixDay1992 is 1992-01-01 as days since 1970-01-01.
	unixDay1992 = 8035

	shipDateMin, shipDateMax       = 1, 121
	commitDateMin, commitDateMax   = 30, 90
	receiptDateMin, receiptDateMax = 1, 30
)

// date32 converts a dbgen day number to days since the Unix epoch.
func date32(d int32) int32 { return d - minGenerateDate + unixDay1992 }

// MaxBatchUnits bounds a batch so that its text stays within the 2 GiB an
// Arrow utf8 array can address.
const MaxBatchUnits = 1 << 21

// GenerateBatch generates units [start, start+count) of table t at scale
// factor sf (see Units) as one record batch allocated from mem (nil means
// memory.DefaultAllocator). Any range can be generated on its own: the
// result equals the same rows of the whole table. The first call builds
// the shared comment text pool.
func GenerateBatch(t Table, sf float64, start, count int64, mem memory.Allocator) (arrow.RecordBatch, error) {
	return generateBatch(t, sf, start, count, mem, false)
}

// generateBatch is GenerateBatch, optionally with the low-cardinality text
// columns as dictionary arrays (the batch's schema then says so).
func generateBatch(t Table, sf float64, start, count int64, mem memory.Allocator, asDict bool) (arrow.RecordBatch, error) {
	units, err := Units(t, sf)
	if err != nil {
		return nil, err
	}
	if start < 0 || count < 0 || start > units || count > units-start {
		return nil, fmt.Errorf("%s units [%d, %d) are outside the table's %d units at scale factor %v", t, start, start+count, units, sf)
	}
	if count > MaxBatchUnits {
		return nil, fmt.Errorf("%s batch of %d units is too large (at most %d)", t, count, MaxBatchUnits)
	}
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	g := generator{mem: mem, sf: sf, start: start, n: int(count), pool: textPool(), asDict: asDict}
	switch t {
	case Nation:
		return g.nation(), nil
	case Region:
		return g.region(), nil
	case Part:
		return g.part(), nil
	case Supplier:
		return g.supplier(), nil
	case PartSupp:
		return g.partSupp(), nil
	case Customer:
		return g.customer(), nil
	case Orders:
		return g.orders(), nil
	default:
		return g.lineItem(), nil
	}
}

// generator holds one batch request.
type generator struct {
	mem   memory.Allocator
	sf    float64
	start int64 // first unit, 0-based
	n     int   // units
	pool  []byte
	// asDict keeps low-cardinality text columns as dictionary arrays.
	asDict bool
}

func (g *generator) nation() arrow.RecordBatch {
	d := dists.nations
	comment := newTextRand(606179079, 72, 1)
	comment.advanceRows(g.start)
	key, region := newInt64Col(g.mem, g.n), newInt64Col(g.mem, g.n)
	name, text := newStrCol(g.mem, g.n, g.n*16), newStrCol(g.mem, g.n, g.n*116)
	for i := 0; i < g.n; i++ {
		idx := int(g.start) + i
		key.v[i] = int64(idx)
		name.addString(d.values[idx])
		region.v[i] = int64(d.cumulative[idx])
		text.add(comment.value(g.pool))
		comment.rowFinished()
	}
	return batchOf(Nation, g.n, []arrow.Array{key.array(i64, g.n), name.array(), region.array(i64, g.n), text.array()})
}

func (g *generator) region() arrow.RecordBatch {
	d := dists.regions
	comment := newTextRand(1500869201, 72, 1)
	comment.advanceRows(g.start)
	key := newInt64Col(g.mem, g.n)
	name, text := newStrCol(g.mem, g.n, g.n*12), newStrCol(g.mem, g.n, g.n*116)
	for i := 0; i < g.n; i++ {
		idx := int(g.start) + i
		key.v[i] = int64(idx)
		name.addString(d.values[idx])
		text.add(comment.value(g.pool))
		comment.rowFinished()
	}
	return batchOf(Region, g.n, []arrow.Array{key.array(i64, g.n), name.array(), text.array()})
}

// partPrice is the retail price of a part in cents (TPC-H 4.2.3):
// 90000 + (key/10 mod 20001) + 100·(key mod 1000).
func partPrice(partKey int64) int64 {
	return 90000 + (partKey/10)%20001 + (partKey%1000)*100
}

func (g *generator) part() arrow.RecordBatch {
	colors := dists.colors
	nameRand := newRowRand(709314158, int32(len(colors.values)))
	mfgrRand := newBoundedRand(1, 1, 5, 1)
	brandRand := newBoundedRand(46831694, 1, 5, 1)
	typeRand := newRowRand(1841581359, 1)
	sizeRand := newBoundedRand(1193163244, 1, 50, 1)
	containerRand := newRowRand(727633698, 1)
	comment := newTextRand(804159733, 14, 1)
	for _, r := range []*rowRand{&nameRand, &mfgrRand.rowRand, &brandRand.rowRand, &typeRand, &sizeRand.rowRand, &containerRand, &comment.rowRand} {
		r.advanceRows(g.start)
	}

	n := g.n
	key, size, price := newInt64Col(g.mem, n), newInt32Col(g.mem, n), newMoneyCol(g.mem, n)
	name := newStrCol(g.mem, n, n*34)
	mfgr, brand := newDictCol(g.mem, n, mfgrDict), newDictCol(g.mem, n, brandDict)
	ptype, container := newDictCol(g.mem, n, typeDict), newDictCol(g.mem, n, containerDict)
	text := newTextCol(g.mem, n)

	// The name is five distinct colours: the first five places of a
	// partial Fisher–Yates shuffle of the colour list, restarted per row.
	var identity, perm [256]uint8
	for i := range colors.values {
		identity[i] = uint8(i)
	}
	ncolors := int32(len(colors.values))
	for i := 0; i < n; i++ {
		k := g.start + int64(i) + 1
		key.v[i] = k

		perm = identity
		name.reserve(5 * (colors.maxLen + 1))
		for w := int32(0); w < 5; w++ {
			j := nameRand.nextInt(w, ncolors-1)
			perm[w], perm[j] = perm[j], perm[w]
			if w > 0 {
				name.data = append(name.data, ' ')
			}
			name.data = append(name.data, colors.values[perm[w]]...)
		}
		name.end()

		// Manufacturer#m, and Brand#mb with b in 1..5.
		m := mfgrRand.value()
		mfgr.v[i] = int16(m - 1)
		brand.v[i] = int16((m-1)*5 + brandRand.value() - 1)
		ptype.v[i] = int16(dists.types.random(&typeRand))
		size.v[i] = sizeRand.value()
		container.v[i] = int16(dists.containers.random(&containerRand))
		price.v[i] = money(partPrice(k))
		comment.addTo(&text, len(g.pool))

		nameRand.rowFinished()
		mfgrRand.rowFinished()
		brandRand.rowFinished()
		typeRand.rowFinished()
		sizeRand.rowFinished()
		containerRand.rowFinished()
		comment.rowFinished()
	}
	return batchOf(Part, n, []arrow.Array{
		key.array(i64, n), name.array(), mfgr.array(g.mem, n, g.asDict), brand.array(g.mem, n, g.asDict),
		ptype.array(g.mem, n, g.asDict), size.array(i32, n), container.array(g.mem, n, g.asDict),
		price.array(Money, n), text.array(g.pool),
	})
}

// Better Business Bureau remarks planted in supplier comments (TPC-H
// 4.2.3): about 10 suppliers in 10000 get "Customer ... Complaints" or
// "Customer ... Recommends" written over part of their comment.
const (
	bbbBase      = "Customer "
	bbbComplaint = "Complaints"
	bbbRecommend = "Recommends"
	bbbLen       = len(bbbBase) + len(bbbComplaint)
)

func (g *generator) supplier() arrow.RecordBatch {
	address := newAlphaNumeric(706178559, 25)
	nationRand := newBoundedRand(110356601, 0, int32(len(dists.nations.values)-1), 1)
	phone := newPhoneRand(884434366)
	balance := newBoundedRand(962338209, -99999, 999999, 1)
	comment := newTextRand(1341315363, 63, 1)
	bbbRand := newBoundedRand(202794285, 1, supplierBase, 1)
	bbbJunk := newRowRand(263032577, 1)
	bbbOffset := newRowRand(715851524, 1)
	bbbType := newBoundedRand(753643799, 0, 100, 1)
	streams := []*rowRand{&address.rowRand, &nationRand.rowRand, &phone.rowRand, &balance.rowRand, &comment.rowRand,
		&bbbRand.rowRand, &bbbJunk, &bbbOffset, &bbbType.rowRand}
	for _, r := range streams {
		r.advanceRows(g.start)
	}

	n := g.n
	key, nation, acct := newInt64Col(g.mem, n), newInt64Col(g.mem, n), newMoneyCol(g.mem, n)
	name, addr, ph := newStrCol(g.mem, n, n*18), newStrCol(g.mem, n, n*25), newStrCol(g.mem, n, n*15)
	text := newStrCol(g.mem, n, n*63)
	for i := 0; i < n; i++ {
		k := g.start + int64(i) + 1
		key.v[i] = k
		name.addNumbered("Supplier#", k)
		addr.reserve(int(address.maxLen))
		addr.data = address.appendValue(addr.data)
		addr.end()
		nk := int64(nationRand.value())
		nation.v[i] = nk
		ph.reserve(16)
		ph.data = phone.appendValue(ph.data, nk)
		ph.end()
		acct.v[i] = money(int64(balance.value()))

		c := comment.value(g.pool)
		text.reserve(len(c))
		at := len(text.data)
		text.data = append(text.data, c...)
		if bbbRand.value() <= 10 {
			// Overwrite in place: "Customer " at a random offset, then
			// the verdict after some untouched noise characters.
			noise := int(bbbJunk.nextInt(0, int32(len(c)-bbbLen)))
			offset := int(bbbOffset.nextInt(0, int32(len(c)-(bbbLen+noise))))
			verdict := bbbRecommend
			if bbbType.value() < 50 {
				verdict = bbbComplaint
			}
			dst := text.data[at:]
			copy(dst[offset:], bbbBase)
			copy(dst[offset+len(bbbBase)+noise:], verdict)
		}
		text.end()

		for _, r := range streams {
			r.rowFinished()
		}
	}
	return batchOf(Supplier, n, []arrow.Array{
		key.array(i64, n), name.array(), addr.array(), nation.array(i64, n), ph.array(), acct.array(Money, n), text.array(),
	})
}

// partSupplier is the key of the i-th (0..3) supplier of a part (TPC-H
// 4.2.3): suppliers spread evenly, and distinct for each part.
func partSupplier(partKey, i int64, suppliers int64) int64 {
	return (partKey+i*(suppliers/suppliersPerPart+(partKey-1)/suppliers))%suppliers + 1
}

func (g *generator) partSupp() arrow.RecordBatch {
	qty := newBoundedRand(1671059989, 1, 9999, suppliersPerPart)
	cost := newBoundedRand(1051288424, 100, 100000, suppliersPerPart)
	comment := newTextRand(1961692154, 124, suppliersPerPart)
	qty.advanceRows(g.start)
	cost.advanceRows(g.start)
	comment.advanceRows(g.start)
	suppliers := scaled(supplierBase, g.sf)

	rows := g.n * suppliersPerPart
	pk, sk := newInt64Col(g.mem, rows), newInt64Col(g.mem, rows)
	avail, supplyCost := newInt32Col(g.mem, rows), newMoneyCol(g.mem, rows)
	text := newTextCol(g.mem, rows)
	r := 0
	for i := 0; i < g.n; i++ {
		k := g.start + int64(i) + 1
		for s := int64(0); s < suppliersPerPart; s++ {
			pk.v[r] = k
			sk.v[r] = partSupplier(k, s, suppliers)
			avail.v[r] = qty.value()
			supplyCost.v[r] = money(int64(cost.value()))
			comment.addTo(&text, len(g.pool))
			r++
		}
		qty.rowFinished()
		cost.rowFinished()
		comment.rowFinished()
	}
	return batchOf(PartSupp, rows, []arrow.Array{
		pk.array(i64, rows), sk.array(i64, rows), avail.array(i32, rows), supplyCost.array(Money, rows), text.array(g.pool),
	})
}

func (g *generator) customer() arrow.RecordBatch {
	address := newAlphaNumeric(881155353, 25)
	nationRand := newBoundedRand(1489529863, 0, int32(len(dists.nations.values)-1), 1)
	phone := newPhoneRand(1521138112)
	balance := newBoundedRand(298370230, -99999, 999999, 1)
	segment := newRowRand(1140279430, 1)
	comment := newTextRand(1335826707, 73, 1)
	streams := []*rowRand{&address.rowRand, &nationRand.rowRand, &phone.rowRand, &balance.rowRand, &segment, &comment.rowRand}
	for _, r := range streams {
		r.advanceRows(g.start)
	}

	n := g.n
	key, nation, acct := newInt64Col(g.mem, n), newInt64Col(g.mem, n), newMoneyCol(g.mem, n)
	name, addr, ph := newStrCol(g.mem, n, n*18), newStrCol(g.mem, n, n*25), newStrCol(g.mem, n, n*15)
	seg, text := newDictCol(g.mem, n, segmentDict), newTextCol(g.mem, n)
	for i := 0; i < n; i++ {
		k := g.start + int64(i) + 1
		key.v[i] = k
		name.addNumbered("Customer#", k)
		addr.reserve(int(address.maxLen))
		addr.data = address.appendValue(addr.data)
		addr.end()
		nk := int64(nationRand.value())
		nation.v[i] = nk
		ph.reserve(16)
		ph.data = phone.appendValue(ph.data, nk)
		ph.end()
		acct.v[i] = money(int64(balance.value()))
		seg.v[i] = int16(dists.segments.random(&segment))
		comment.addTo(&text, len(g.pool))
		for _, r := range streams {
			r.rowFinished()
		}
	}
	return batchOf(Customer, n, []arrow.Array{
		key.array(i64, n), name.array(), addr.array(), nation.array(i64, n), ph.array(), acct.array(Money, n),
		seg.array(g.mem, n, g.asDict), text.array(g.pool),
	})
}

// orderKey spreads order indexes (1-based) over a sparse key space: of
// every 32 keys only the first 8 are used (TPC-H 4.2.3).
func orderKey(index int64) int64 {
	return (index>>3)<<5 | index&7
}

// lineStreams are the streams shared by orders and lineitem: an order's
// total price and status are computed from its line items, so the orders
// generator replays the line item draws that determine them.
type lineStreams struct {
	orderDate, lineCount    boundedRand
	quantity, discount, tax boundedRand
	partKey                 keyRand
	shipDate                boundedRand
}

func newLineStreams(sf float64, start int64) lineStreams {
	s := lineStreams{
		orderDate: newBoundedRand(1066728069, minGenerateDate, orderDateMax, 1),
		lineCount: newBoundedRand(1434868289, 1, linesPerOrderMax, 1),
		quantity:  newBoundedRand(209208115, 1, 50, linesPerOrderMax),
		discount:  newBoundedRand(554590007, 0, 10, linesPerOrderMax),
		tax:       newBoundedRand(721958466, 0, 8, linesPerOrderMax),
		partKey:   newKeyRand(1808217256, 1, scaled(partBase, sf), linesPerOrderMax),
		shipDate:  newBoundedRand(1769349045, shipDateMin, shipDateMax, linesPerOrderMax),
	}
	for _, r := range s.all() {
		r.advanceRows(start)
	}
	return s
}

func (s *lineStreams) all() []*rowRand {
	return []*rowRand{&s.orderDate.rowRand, &s.lineCount.rowRand, &s.quantity.rowRand, &s.discount.rowRand,
		&s.tax.rowRand, &s.partKey.rowRand, &s.shipDate.rowRand}
}

func (s *lineStreams) rowFinished() {
	s.orderDate.rowFinished()
	s.lineCount.rowFinished()
	s.quantity.rowFinished()
	s.discount.rowFinished()
	s.tax.rowFinished()
	s.partKey.rowFinished()
	s.shipDate.rowFinished()
}

// maxClerk is the number of clerks: 1000 per scale factor unit, at least 1000.
func maxClerk(sf float64) int32 {
	return int32(max(sf*1000, 1000))
}

func (g *generator) orders() arrow.RecordBatch {
	ls := newLineStreams(g.sf, g.start)
	maxCustomer := scaled(customerBase, g.sf)
	custRand := newKeyRand(851767375, 1, maxCustomer, 1)
	prioRand := newRowRand(591449447, 1)
	clerkRand := newBoundedRand(1171034773, 1, maxClerk(g.sf), 1)
	comment := newTextRand(276090261, 49, 1)
	streams := []*rowRand{&custRand.rowRand, &prioRand, &clerkRand.rowRand, &comment.rowRand}
	for _, r := range streams {
		r.advanceRows(g.start)
	}

	n := g.n
	key, cust, total := newInt64Col(g.mem, n), newInt64Col(g.mem, n), newMoneyCol(g.mem, n)
	odate, shipPrio := newInt32Col(g.mem, n), newInt32Col(g.mem, n)
	status, prio := newDictCol(g.mem, n, orderStatusDict), newDictCol(g.mem, n, priorityDict)
	clerk := newStrCol(g.mem, n, n*15)
	text := newTextCol(g.mem, n)
	for i := 0; i < n; i++ {
		idx := g.start + int64(i) + 1
		key.v[i] = orderKey(idx)
		date := ls.orderDate.value()

		// Customers whose key is a multiple of 3 place no orders: step
		// alternately up and down to a neighbour.
		c := custRand.value()
		delta := int64(1)
		for c%3 == 0 {
			c = min(c+delta, maxCustomer)
			delta = -delta
		}
		cust.v[i] = c

		var price int64
		lines := ls.lineCount.value()
		shipped := int32(0)
		for l := int32(0); l < lines; l++ {
			q := int64(ls.quantity.value())
			d := int64(ls.discount.value())
			t := int64(ls.tax.value())
			ext := partPrice(ls.partKey.value()) * q
			price += ext * (100 - d) / 100 * (100 + t) / 100
			if date+ls.shipDate.value() <= currentDate {
				shipped++
			}
		}
		total.v[i] = money(price)
		switch {
		case shipped == lines:
			status.v[i] = statusF
		case shipped > 0:
			status.v[i] = statusP
		default:
			status.v[i] = statusO
		}
		odate.v[i] = date32(date)
		prio.v[i] = int16(dists.priorities.random(&prioRand))
		clerk.addNumbered("Clerk#", int64(clerkRand.value()))
		shipPrio.v[i] = 0
		comment.addTo(&text, len(g.pool))

		ls.rowFinished()
		for _, r := range streams {
			r.rowFinished()
		}
	}
	return batchOf(Orders, n, []arrow.Array{
		key.array(i64, n), cust.array(i64, n), status.array(g.mem, n, g.asDict), total.array(Money, n),
		odate.array(dateType, n), prio.array(g.mem, n, g.asDict), clerk.array(), shipPrio.array(i32, n),
		text.array(g.pool),
	})
}

func (g *generator) lineItem() arrow.RecordBatch {
	ls := newLineStreams(g.sf, g.start)
	supplierRand := newBoundedRand(2095021727, 0, suppliersPerPart-1, linesPerOrderMax)
	commitRand := newBoundedRand(904914315, commitDateMin, commitDateMax, linesPerOrderMax)
	receiptRand := newBoundedRand(373135028, receiptDateMin, receiptDateMax, linesPerOrderMax)
	flagRand := newRowRand(717419739, linesPerOrderMax)
	instructRand := newRowRand(1371272478, linesPerOrderMax)
	modeRand := newRowRand(675466456, linesPerOrderMax)
	comment := newTextRand(1095462486, 27, linesPerOrderMax)
	streams := []*rowRand{&supplierRand.rowRand, &commitRand.rowRand, &receiptRand.rowRand, &flagRand,
		&instructRand, &modeRand, &comment.rowRand}
	for _, r := range streams {
		r.advanceRows(g.start)
	}
	suppliers := scaled(supplierBase, g.sf)

	bound := g.n * linesPerOrderMax
	okey, pkey, skey := newInt64Col(g.mem, bound), newInt64Col(g.mem, bound), newInt64Col(g.mem, bound)
	lineNo := newInt32Col(g.mem, bound)
	qty, ext, disc, tax := newMoneyCol(g.mem, bound), newMoneyCol(g.mem, bound), newMoneyCol(g.mem, bound), newMoneyCol(g.mem, bound)
	ship, commit, receipt := newInt32Col(g.mem, bound), newInt32Col(g.mem, bound), newInt32Col(g.mem, bound)
	flag, status := newDictCol(g.mem, bound, returnFlagDict), newDictCol(g.mem, bound, lineStatusDict)
	instruct, mode := newDictCol(g.mem, bound, instructionDict), newDictCol(g.mem, bound, shipModeDict)
	text := newTextCol(g.mem, bound)

	r := 0
	for i := 0; i < g.n; i++ {
		key := orderKey(g.start + int64(i) + 1)
		date := ls.orderDate.value()
		lines := ls.lineCount.value()
		for l := int32(0); l < lines; l++ {
			okey.v[r] = key
			lineNo.v[r] = l + 1
			q := int64(ls.quantity.value())
			qty.v[r] = money(q * 100)
			disc.v[r] = money(int64(ls.discount.value()))
			tax.v[r] = money(int64(ls.tax.value()))
			pk := ls.partKey.value()
			pkey.v[r] = pk
			skey.v[r] = partSupplier(pk, int64(supplierRand.value()), suppliers)
			ext.v[r] = money(partPrice(pk) * q)

			sd := date + ls.shipDate.value()
			cd := date + commitRand.value()
			rd := sd + receiptRand.value()
			ship.v[r], commit.v[r], receipt.v[r] = date32(sd), date32(cd), date32(rd)
			// Returned (R or A) only once received; shipped (F) or open.
			if rd <= currentDate {
				flag.v[r] = int16(dists.returnFlags.random(&flagRand))
			} else {
				flag.v[r] = returnFlagNo
			}
			if sd <= currentDate {
				status.v[r] = statusF
			} else {
				status.v[r] = statusO
			}
			instruct.v[r] = int16(dists.instructions.random(&instructRand))
			mode.v[r] = int16(dists.shipModes.random(&modeRand))
			comment.addTo(&text, len(g.pool))
			r++
		}
		ls.rowFinished()
		for _, s := range streams {
			s.rowFinished()
		}
	}
	return batchOf(LineItem, r, []arrow.Array{
		okey.array(i64, r), pkey.array(i64, r), skey.array(i64, r), lineNo.array(i32, r),
		qty.array(Money, r), ext.array(Money, r), disc.array(Money, r), tax.array(Money, r),
		flag.array(g.mem, r, g.asDict), status.array(g.mem, r, g.asDict),
		ship.array(dateType, r), commit.array(dateType, r), receipt.array(dateType, r),
		instruct.array(g.mem, r, g.asDict), mode.array(g.mem, r, g.asDict), text.array(g.pool),
	})
}
