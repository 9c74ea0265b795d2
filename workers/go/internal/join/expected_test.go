package join

// expected holds the answers DuckDB 1.4.2 gives for the test tables L and R
// of join_test.go (rows rendered "v|v|...", NULL as NULL, sorted). Mark
// and NOT IN cases with a residual were computed from the definition in
// logical.Join (a condition that is NULL for some right row makes the mark
// NULL); the others are plain SQL joins, IN and NOT IN.
var expected = map[string][]string{
	"inner1":          {"1|a|l1|1|a|10", "2|b|l2|2|b|20", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l3|2|b|20", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "4|NULL|l6|4|NULL|41", "4|NULL|l6|4|d|40", "5|e|l7|5|e|NULL"},
	"left1":           {"1|a|l1|1|a|10", "2|b|l2|2|b|20", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l3|2|b|20", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "3|c|l4|NULL|NULL|NULL", "4|NULL|l6|4|NULL|41", "4|NULL|l6|4|d|40", "5|e|l7|5|e|NULL", "NULL|a|l5|NULL|NULL|NULL"},
	"right1":          {"1|a|l1|1|a|10", "2|b|l2|2|b|20", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l3|2|b|20", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "4|NULL|l6|4|NULL|41", "4|NULL|l6|4|d|40", "5|e|l7|5|e|NULL", "NULL|NULL|NULL|6|f|60", "NULL|NULL|NULL|NULL|a|50"},
	"full1":           {"1|a|l1|1|a|10", "2|b|l2|2|b|20", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l3|2|b|20", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "3|c|l4|NULL|NULL|NULL", "4|NULL|l6|4|NULL|41", "4|NULL|l6|4|d|40", "5|e|l7|5|e|NULL", "NULL|NULL|NULL|6|f|60", "NULL|NULL|NULL|NULL|a|50", "NULL|a|l5|NULL|NULL|NULL"},
	"semi1":           {"1|a|l1", "2|b|l2", "2|b|l3", "4|NULL|l6", "5|e|l7"},
	"anti1":           {"3|c|l4", "NULL|a|l5"},
	"inner2":          {"1|a|l1|1|a|10", "2|b|l2|2|b|20", "2|b|l2|2|b|21", "2|b|l3|2|b|20", "2|b|l3|2|b|21", "5|e|l7|5|e|NULL"},
	"left2":           {"1|a|l1|1|a|10", "2|b|l2|2|b|20", "2|b|l2|2|b|21", "2|b|l3|2|b|20", "2|b|l3|2|b|21", "3|c|l4|NULL|NULL|NULL", "4|NULL|l6|NULL|NULL|NULL", "5|e|l7|5|e|NULL", "NULL|a|l5|NULL|NULL|NULL"},
	"full2":           {"1|a|l1|1|a|10", "2|b|l2|2|b|20", "2|b|l2|2|b|21", "2|b|l3|2|b|20", "2|b|l3|2|b|21", "3|c|l4|NULL|NULL|NULL", "4|NULL|l6|NULL|NULL|NULL", "5|e|l7|5|e|NULL", "NULL|NULL|NULL|2|x|22", "NULL|NULL|NULL|4|NULL|41", "NULL|NULL|NULL|4|d|40", "NULL|NULL|NULL|6|f|60", "NULL|NULL|NULL|NULL|a|50", "NULL|a|l5|NULL|NULL|NULL"},
	"semi2":           {"1|a|l1", "2|b|l2", "2|b|l3", "5|e|l7"},
	"anti2":           {"3|c|l4", "4|NULL|l6", "NULL|a|l5"},
	"notin_nullbuild": {},
	"notin":           {"3|c|l4"},
	"notin_empty":     {"1|a|l1", "2|b|l2", "2|b|l3", "3|c|l4", "4|NULL|l6", "5|e|l7", "NULL|a|l5"},
	"mark":            {"1|a|l1|true", "2|b|l2|true", "2|b|l3|true", "3|c|l4|NULL", "4|NULL|l6|true", "5|e|l7|true", "NULL|a|l5|NULL"},
	"mark_nn":         {"1|a|l1|true", "2|b|l2|true", "2|b|l3|true", "3|c|l4|false", "4|NULL|l6|true", "5|e|l7|true", "NULL|a|l5|NULL"},
	"mark_empty":      {"1|a|l1|false", "2|b|l2|false", "2|b|l3|false", "3|c|l4|false", "4|NULL|l6|false", "5|e|l7|false", "NULL|a|l5|false"},
	"inner_res":       {"1|a|l1|1|a|10", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "4|NULL|l6|4|NULL|41", "4|NULL|l6|4|d|40"},
	"left_res":        {"1|a|l1|1|a|10", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "3|c|l4|NULL|NULL|NULL", "4|NULL|l6|4|NULL|41", "4|NULL|l6|4|d|40", "5|e|l7|NULL|NULL|NULL", "NULL|a|l5|NULL|NULL|NULL"},
	"right_res":       {"1|a|l1|1|a|10", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "4|NULL|l6|4|NULL|41", "4|NULL|l6|4|d|40", "NULL|NULL|NULL|2|b|20", "NULL|NULL|NULL|5|e|NULL", "NULL|NULL|NULL|6|f|60", "NULL|NULL|NULL|NULL|a|50"},
	"full_res":        {"1|a|l1|1|a|10", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "3|c|l4|NULL|NULL|NULL", "4|NULL|l6|4|NULL|41", "4|NULL|l6|4|d|40", "5|e|l7|NULL|NULL|NULL", "NULL|NULL|NULL|2|b|20", "NULL|NULL|NULL|5|e|NULL", "NULL|NULL|NULL|6|f|60", "NULL|NULL|NULL|NULL|a|50", "NULL|a|l5|NULL|NULL|NULL"},
	"semi_res":        {"1|a|l1", "2|b|l2", "2|b|l3", "4|NULL|l6"},
	"anti_res":        {"3|c|l4", "5|e|l7", "NULL|a|l5"},
	"semi_x":          {"2|b|l2", "2|b|l3", "4|NULL|l6"},
	"anti_x":          {"1|a|l1", "3|c|l4", "5|e|l7", "NULL|a|l5"},
	"mark_x":          {"1|a|l1|false", "2|b|l2|true", "2|b|l3|true", "3|c|l4|false", "4|NULL|l6|true", "5|e|l7|NULL", "NULL|a|l5|NULL"},
	"notin_x":         {"1|a|l1", "3|c|l4"},
	"single":          {"1|a|l1|1|10", "2|b|l2|2|22", "2|b|l3|2|22", "3|c|l4|NULL|NULL", "4|NULL|l6|4|41", "5|e|l7|5|NULL", "NULL|a|l5|NULL|NULL"},
	"cross_empty":     {},
	"nl_inner":        {"1|a|l1|2|b|20", "1|a|l1|2|b|21", "1|a|l1|2|x|22", "1|a|l1|4|NULL|41", "1|a|l1|4|d|40", "1|a|l1|6|f|60", "1|a|l1|NULL|a|50", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l2|4|NULL|41", "2|b|l2|4|d|40", "2|b|l2|6|f|60", "2|b|l2|NULL|a|50", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "2|b|l3|4|NULL|41", "2|b|l3|4|d|40", "2|b|l3|6|f|60", "2|b|l3|NULL|a|50", "3|c|l4|4|NULL|41", "3|c|l4|4|d|40", "3|c|l4|6|f|60", "3|c|l4|NULL|a|50", "4|NULL|l6|4|NULL|41", "4|NULL|l6|6|f|60", "4|NULL|l6|NULL|a|50", "5|e|l7|6|f|60"},
	"nl_left":         {"1|a|l1|2|b|20", "1|a|l1|2|b|21", "1|a|l1|2|x|22", "1|a|l1|4|NULL|41", "1|a|l1|4|d|40", "1|a|l1|6|f|60", "1|a|l1|NULL|a|50", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l2|4|NULL|41", "2|b|l2|4|d|40", "2|b|l2|6|f|60", "2|b|l2|NULL|a|50", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "2|b|l3|4|NULL|41", "2|b|l3|4|d|40", "2|b|l3|6|f|60", "2|b|l3|NULL|a|50", "3|c|l4|4|NULL|41", "3|c|l4|4|d|40", "3|c|l4|6|f|60", "3|c|l4|NULL|a|50", "4|NULL|l6|4|NULL|41", "4|NULL|l6|6|f|60", "4|NULL|l6|NULL|a|50", "5|e|l7|6|f|60", "NULL|a|l5|NULL|NULL|NULL"},
	"nl_full":         {"1|a|l1|2|b|20", "1|a|l1|2|b|21", "1|a|l1|2|x|22", "1|a|l1|4|NULL|41", "1|a|l1|4|d|40", "1|a|l1|6|f|60", "1|a|l1|NULL|a|50", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l2|4|NULL|41", "2|b|l2|4|d|40", "2|b|l2|6|f|60", "2|b|l2|NULL|a|50", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "2|b|l3|4|NULL|41", "2|b|l3|4|d|40", "2|b|l3|6|f|60", "2|b|l3|NULL|a|50", "3|c|l4|4|NULL|41", "3|c|l4|4|d|40", "3|c|l4|6|f|60", "3|c|l4|NULL|a|50", "4|NULL|l6|4|NULL|41", "4|NULL|l6|6|f|60", "4|NULL|l6|NULL|a|50", "5|e|l7|6|f|60", "NULL|NULL|NULL|1|a|10", "NULL|NULL|NULL|5|e|NULL", "NULL|a|l5|NULL|NULL|NULL"},
	"nl_semi":         {"1|a|l1", "2|b|l2", "2|b|l3", "3|c|l4", "4|NULL|l6", "5|e|l7"},
	"nl_anti":         {"NULL|a|l5"},
	"nl_mark":         {"1|a|l1|true", "2|b|l2|true", "2|b|l3|true", "3|c|l4|true", "4|NULL|l6|true", "5|e|l7|true", "NULL|a|l5|NULL"},
	"cross":           {"1|a|l1|1|a|10", "1|a|l1|2|b|20", "1|a|l1|2|b|21", "1|a|l1|2|x|22", "1|a|l1|4|NULL|41", "1|a|l1|4|d|40", "1|a|l1|5|e|NULL", "1|a|l1|6|f|60", "1|a|l1|NULL|a|50", "2|b|l2|1|a|10", "2|b|l2|2|b|20", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l2|4|NULL|41", "2|b|l2|4|d|40", "2|b|l2|5|e|NULL", "2|b|l2|6|f|60", "2|b|l2|NULL|a|50", "2|b|l3|1|a|10", "2|b|l3|2|b|20", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "2|b|l3|4|NULL|41", "2|b|l3|4|d|40", "2|b|l3|5|e|NULL", "2|b|l3|6|f|60", "2|b|l3|NULL|a|50", "3|c|l4|1|a|10", "3|c|l4|2|b|20", "3|c|l4|2|b|21", "3|c|l4|2|x|22", "3|c|l4|4|NULL|41", "3|c|l4|4|d|40", "3|c|l4|5|e|NULL", "3|c|l4|6|f|60", "3|c|l4|NULL|a|50", "4|NULL|l6|1|a|10", "4|NULL|l6|2|b|20", "4|NULL|l6|2|b|21", "4|NULL|l6|2|x|22", "4|NULL|l6|4|NULL|41", "4|NULL|l6|4|d|40", "4|NULL|l6|5|e|NULL", "4|NULL|l6|6|f|60", "4|NULL|l6|NULL|a|50", "5|e|l7|1|a|10", "5|e|l7|2|b|20", "5|e|l7|2|b|21", "5|e|l7|2|x|22", "5|e|l7|4|NULL|41", "5|e|l7|4|d|40", "5|e|l7|5|e|NULL", "5|e|l7|6|f|60", "5|e|l7|NULL|a|50", "NULL|a|l5|1|a|10", "NULL|a|l5|2|b|20", "NULL|a|l5|2|b|21", "NULL|a|l5|2|x|22", "NULL|a|l5|4|NULL|41", "NULL|a|l5|4|d|40", "NULL|a|l5|5|e|NULL", "NULL|a|l5|6|f|60", "NULL|a|l5|NULL|a|50"},
	"nl_right":        {"1|a|l1|2|b|20", "1|a|l1|2|b|21", "1|a|l1|2|x|22", "1|a|l1|4|NULL|41", "1|a|l1|4|d|40", "1|a|l1|6|f|60", "1|a|l1|NULL|a|50", "2|b|l2|2|b|21", "2|b|l2|2|x|22", "2|b|l2|4|NULL|41", "2|b|l2|4|d|40", "2|b|l2|6|f|60", "2|b|l2|NULL|a|50", "2|b|l3|2|b|21", "2|b|l3|2|x|22", "2|b|l3|4|NULL|41", "2|b|l3|4|d|40", "2|b|l3|6|f|60", "2|b|l3|NULL|a|50", "3|c|l4|4|NULL|41", "3|c|l4|4|d|40", "3|c|l4|6|f|60", "3|c|l4|NULL|a|50", "4|NULL|l6|4|NULL|41", "4|NULL|l6|6|f|60", "4|NULL|l6|NULL|a|50", "5|e|l7|6|f|60", "NULL|NULL|NULL|1|a|10", "NULL|NULL|NULL|5|e|NULL"},
	"single_res":      {"1|a|l1|NULL|NULL", "2|b|l2|2|22", "2|b|l3|2|22", "3|c|l4|NULL|NULL", "4|NULL|l6|4|41", "5|e|l7|NULL|NULL", "NULL|a|l5|NULL|NULL"},
}
