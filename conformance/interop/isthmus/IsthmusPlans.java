import io.substrait.isthmus.SqlToSubstrait;
import io.substrait.isthmus.sql.SubstraitCreateStatementParser;
import io.substrait.plan.PlanProtoConverter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.calcite.prepare.Prepare;

/**
 * isthmus side of the Substrait interop suite (conformance/interop): plans
 * each TPC-H query with isthmus over the TPC-H schema and writes its
 * Substrait plan (binary protobuf) to OUT_DIR/qNN.pb. Prints JSON
 * {"n": null | "error"} like datafusion_interop.py.
 *
 * <p>usage: java -cp LIB/*:. IsthmusPlans OUT_DIR qNN.sql [...]
 */
public final class IsthmusPlans {
  /** The TPC-H tables with the column types of the Parquet files. */
  static final String[] SCHEMA = {
    "CREATE TABLE nation (n_nationkey BIGINT, n_name VARCHAR, n_regionkey BIGINT, n_comment VARCHAR)",
    "CREATE TABLE region (r_regionkey BIGINT, r_name VARCHAR, r_comment VARCHAR)",
    "CREATE TABLE part (p_partkey BIGINT, p_name VARCHAR, p_mfgr VARCHAR, p_brand VARCHAR,"
        + " p_type VARCHAR, p_size INTEGER, p_container VARCHAR, p_retailprice DECIMAL(15,2),"
        + " p_comment VARCHAR)",
    "CREATE TABLE supplier (s_suppkey BIGINT, s_name VARCHAR, s_address VARCHAR,"
        + " s_nationkey BIGINT, s_phone VARCHAR, s_acctbal DECIMAL(15,2), s_comment VARCHAR)",
    "CREATE TABLE partsupp (ps_partkey BIGINT, ps_suppkey BIGINT, ps_availqty INTEGER,"
        + " ps_supplycost DECIMAL(15,2), ps_comment VARCHAR)",
    "CREATE TABLE customer (c_custkey BIGINT, c_name VARCHAR, c_address VARCHAR,"
        + " c_nationkey BIGINT, c_phone VARCHAR, c_acctbal DECIMAL(15,2), c_mktsegment VARCHAR,"
        + " c_comment VARCHAR)",
    "CREATE TABLE orders (o_orderkey BIGINT, o_custkey BIGINT, o_orderstatus VARCHAR,"
        + " o_totalprice DECIMAL(15,2), o_orderdate DATE, o_orderpriority VARCHAR,"
        + " o_clerk VARCHAR, o_shippriority INTEGER, o_comment VARCHAR)",
    "CREATE TABLE lineitem (l_orderkey BIGINT, l_partkey BIGINT, l_suppkey BIGINT,"
        + " l_linenumber INTEGER, l_quantity DECIMAL(15,2), l_extendedprice DECIMAL(15,2),"
        + " l_discount DECIMAL(15,2), l_tax DECIMAL(15,2), l_returnflag VARCHAR,"
        + " l_linestatus VARCHAR, l_shipdate DATE, l_commitdate DATE, l_receiptdate DATE,"
        + " l_shipinstruct VARCHAR, l_shipmode VARCHAR, l_comment VARCHAR)",
  };

  private static final Pattern NUMBER = Pattern.compile("q(\\d+)\\.sql$");
  private static final Pattern VIEW =
      Pattern.compile(
          "(?is)create\\s+view\\s+(\\w+)\\s*(\\([^)]*\\))?\\s+as\\s+(.*)");

  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: IsthmusPlans OUT_DIR qNN.sql [...]");
      System.exit(2);
    }
    Prepare.CatalogReader catalog =
        SubstraitCreateStatementParser.processCreateStatementsToCatalog(SCHEMA);
    StringBuilder report = new StringBuilder("{");
    for (int i = 1; i < args.length; i++) {
      Matcher m = NUMBER.matcher(args[i]);
      if (!m.find()) {
        throw new IllegalArgumentException("not a qNN.sql file: " + args[i]);
      }
      int n = Integer.parseInt(m.group(1));
      String err = null;
      try {
        String sql = query(Files.readString(Path.of(args[i])));
        io.substrait.proto.Plan plan =
            new PlanProtoConverter().toProto(new SqlToSubstrait().convert(sql, catalog));
        Files.write(Path.of(args[0], String.format("q%02d.pb", n)), plan.toByteArray());
      } catch (Exception | Error e) { // reported per query, the run goes on
        err = e.getClass().getSimpleName() + ": " + e.getMessage();
      }
      if (report.length() > 1) {
        report.append(", ");
      }
      report.append('"').append(n).append("\": ").append(err == null ? "null" : json(err));
    }
    System.out.println(report.append('}'));
  }

  /**
   * The single query of a query file. Q15's view becomes a common table
   * expression (the form TPC-H allows as a variant), since isthmus plans one
   * query, not a script.
   */
  static String query(String text) {
    List<String> stmts = new ArrayList<>();
    for (String s : text.split(";")) {
      StringBuilder b = new StringBuilder();
      for (String line : s.split("\n")) {
        if (!line.strip().startsWith("--")) {
          b.append(line).append('\n');
        }
      }
      String body = b.toString().strip();
      if (!body.isEmpty() && !body.toLowerCase().startsWith("drop view")) {
        stmts.add(body);
      }
    }
    StringBuilder with = new StringBuilder();
    String query = null;
    for (String s : stmts) {
      Matcher v = VIEW.matcher(s);
      if (v.matches()) {
        with.append(with.length() == 0 ? "WITH " : ", ")
            .append(v.group(1))
            .append(v.group(2) == null ? "" : " " + v.group(2))
            .append(" AS (")
            .append(v.group(3))
            .append(")\n");
      } else if (query == null) {
        query = s;
      }
    }
    if (query == null) {
      throw new IllegalArgumentException("no query");
    }
    // VALUE is reserved in Calcite's parser (Q11's column alias `value`);
    // quoted, it is the same name.
    return (with + query).replaceAll("(?i)\\bvalue\\b", "\"value\"");
  }

  static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
