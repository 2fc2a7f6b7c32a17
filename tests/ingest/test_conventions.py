"""Each convention of the spec, parsed to the exact stored value (one focused test each)."""

from __future__ import annotations

import gzip
import io
import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ._helpers import PRICE_HEADER, one, quarantine


def price_file(*rows: str, eol: str = "\n") -> str:
    return eol.join([PRICE_HEADER, *rows]) + eol


def stored_price(con, listing: str = "L1") -> str:
    return one(con, "SELECT price::VARCHAR FROM price_observations WHERE listing_id = ?", [listing])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1299.00", "1299.00"),
        ("1299", "1299.00"),
        ('"¥1,299.00"', "1299.00"),
        ('"￥1,299.00"', "1299.00"),
        ('"$1,299.00"', "1299.00"),
        ("€12.50", "12.50"),
        ("£0.99", "0.99"),
        ("CNY 88", "88.00"),
        ("１２９９", "1299.00"),
        ("１２９９．５０", "1299.50"),
        ('"１，２９９．００"', "1299.00"),
        ("  42.10  ", "42.10"),
        ('"1,234,567.89"', "1234567.89"),
        ("0.5", "0.50"),
        # trailing zeros past the cents lose nothing (a DECIMAL(18,4) column's 1.10)
        ("1.100", "1.10"),
        ("12.5000", "12.50"),
        ('"¥1,299.0000"', "1299.00"),
    ],
)
def test_money_is_parsed_exactly(ingest, con, text, expected):
    report = ingest({"price_observations.csv": price_file(f"L1,2026-11-11T00:00:00Z,{text},,,,")})
    assert report.tables["price_observations"].stored == 1, quarantine(con)
    assert stored_price(con) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12.345", "more than 2 decimal places"),
        ("12.3450", "more than 2 decimal places"),  # a zero after a lost digit saves nothing
        ("12.0001", "more than 2 decimal places"),
        ('"1 299,00"', "not an amount of money"),
        ('"1.299,00"', "not an amount of money"),
        ('"12,5"', "not an amount of money"),
        ('"1,29.00"', "not an amount of money"),
        ("-5.00", "negative amount"),
        ("¥-5", "negative amount"),
        ("abc", "not an amount of money"),
        ("1e3", "not an amount of money"),
        ("99999999999999999999", "amount out of range"),
    ],
)
def test_bad_money_is_quarantined_not_guessed(ingest, con, text, reason):
    report = ingest({"price_observations.csv": price_file(f"L1,2026-11-11T00:00:00Z,{text},,,,")})
    counts = report.tables["price_observations"]
    assert (counts.read, counts.stored, counts.quarantined) == (1, 0, 1)
    [(_, line, column, why)] = quarantine(con)
    assert (line, column) == (2, "price")
    assert reason in why
    # the row is kept as it was written, for whoever mends the export
    assert json.loads(one(con, "SELECT raw FROM quarantine"))["price"] == text.strip('"')


def test_money_is_an_exact_decimal(ingest, con):
    ingest({"price_observations.csv": price_file("L1,2026-11-11T00:00:00Z,0.10,0.20,,,")})
    assert one(con, "SELECT (price + reference_price)::VARCHAR FROM price_observations") == "0.30"
    assert one(con, "SELECT price + reference_price = 0.30 FROM price_observations") is True
    assert one(con, "SELECT typeof(price) FROM price_observations") == "DECIMAL(18,2)"


def test_naive_timestamp_is_read_in_tz_and_stored_utc(ingest, con):
    ingest(
        {"price_observations.csv": price_file("L1,2026-11-11 00:00:00,1,,,,")}, tz="Asia/Shanghai"
    )
    assert (
        one(con, "SELECT observed_at::VARCHAR FROM price_observations") == "2026-11-10 16:00:00+00"
    )
    assert one(con, "SELECT current_setting('TimeZone')") == "UTC"  # restored afterwards


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-11T00:00:00+08:00", "2026-11-10 16:00:00+00"),
        ("2026-11-11T00:00:00+0800", "2026-11-10 16:00:00+00"),
        ("2026-11-11 00:00:00+08", "2026-11-10 16:00:00+00"),
        ("2026-11-10T16:00:00Z", "2026-11-10 16:00:00+00"),
        ("2026-11-10T11:00:00-05:00", "2026-11-10 16:00:00+00"),
        ("2026-11-11 00:00:00", "2026-11-10 16:00:00+00"),  # naive: read in Asia/Shanghai
        ("2026/11/11 00:00", "2026-11-10 16:00:00+00"),
        ("2026-11-11", "2026-11-10 16:00:00+00"),  # a date alone is midnight
        ("２０２６-１１-１１ ００:００:００", "2026-11-10 16:00:00+00"),
        ("  2026-11-11T00:00:00.5+08:00 ", "2026-11-10 16:00:00.5+00"),
    ],
)
def test_timestamp_forms(ingest, con, text, expected):
    ingest({"price_observations.csv": price_file(f"L1,{text},1,,,,")}, tz="Asia/Shanghai")
    assert one(con, "SELECT observed_at::VARCHAR FROM price_observations") == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("1762790400", "epoch numbers are not accepted"),
        ("11/11/2026", "not an ISO 8601 timestamp"),
        ("2026-02-30 00:00:00", "not an ISO 8601 timestamp"),
        ("2026-11-11 00:00:00 Asia/Shanghai", "not an ISO 8601 timestamp"),
        ("yesterday", "not an ISO 8601 timestamp"),
    ],
)
def test_bad_timestamps_are_quarantined(ingest, con, text, reason):
    ingest({"price_observations.csv": price_file(f"L1,{text},1,,,,")})
    [(_, line, column, why)] = quarantine(con)
    assert (line, column) == (2, "observed_at")
    assert reason in why


def test_mixed_offsets_in_one_file_are_one_instant(ingest, con):
    ingest(
        {
            "price_observations.csv": price_file(
                "L1,2026-11-11T00:00:00+08:00,1,,,,a",
                "L2,2026-11-10T16:00:00Z,1,,,,a",
                "L3,2026-11-11 00:00:00,1,,,,a",
            )
        },
        tz="Asia/Shanghai",
    )
    assert one(con, "SELECT count(DISTINCT observed_at) FROM price_observations") == 1


def test_utf8_bom_crlf_and_quoted_commas(ingest, con):
    content = '\ufeffplatform_id,name\r\nP1,"Tmall, the mall"\r\nP2,"say ""hi"""\r\n'
    report = ingest({"platforms.csv": content})
    assert report.files[0].encoding == "utf-8"
    rows = con.execute("SELECT platform_id, name FROM platforms ORDER BY 1").fetchall()
    assert rows == [("P1", "Tmall, the mall"), ("P2", 'say "hi"')]


def test_gbk_file_is_detected_without_being_told(ingest, con):
    names = ["华为官方旗舰店", "小米之家", "美的电器京东自营店", "海尔智家官方旗舰店"] * 5
    body = "".join(f"M{i},P1,{n}\n" for i, n in enumerate(names))
    report = ingest({"merchants.csv": ("merchant_id,platform_id,name\n" + body).encode("gbk")})
    assert report.files[0].encoding == "gb18030"
    assert one(con, "SELECT name FROM merchants WHERE merchant_id = 'M0'") == "华为官方旗舰店"
    assert report.tables["merchants"].stored == len(names)


def test_encoding_option_overrides_detection(ingest, con):
    # Two bytes that are valid UTF-8 ("é") but meant as GBK (茅 is C3 A9 in GBK): detection
    # reads UTF-8, so only the override reads them right. (A name such as 数码 is no test: its
    # bytes are not UTF-8, and detection alone finds GB18030.)
    content = "merchant_id,platform_id,name\nM1,P1,茅\n".encode("gbk")
    assert content.decode("utf-8").endswith(",é\n")
    ingest({"merchants.csv": content}, encoding="gbk")
    assert one(con, "SELECT name FROM merchants") == "茅"


def test_invalid_utf8_line_is_quarantined_others_kept(ingest, con):
    content = b"platform_id,name\nP1,ok\nP2,\xff\xfe bad\nP3,fine\n"
    report = ingest({"platforms.csv": content})
    counts = report.tables["platforms"]
    assert (counts.read, counts.stored, counts.quarantined) == (3, 2, 1)
    [(_, line, _, why)] = quarantine(con)
    assert line == 3 and "invalid encoding" in why


def test_surrounding_spaces_trimmed_for_ids_and_numbers_text_kept(ingest, con):
    ingest(
        {
            "listings.csv": "listing_id,merchant_id,platform_id,title,category,currency,msrp\n"
            " L1 ,M1, P1,  a title ,food, cny , 10 \n"
        }
    )
    row = con.execute(
        "SELECT listing_id, platform_id, title, currency, msrp::VARCHAR FROM listings"
    ).fetchone()
    assert row == ("L1", "P1", "  a title ", "CNY", "10.00")


def test_a_spreadsheets_text_guard_is_taken_off_ids_and_numbers_text_kept(ingest, con):
    """Exports meant for Excel (brokers', Chinese sites' downloads) write a long number as the
    formula ="…" so that Excel keeps its digits, plain or CSV-quoted; the value is inside it."""
    report = ingest(
        {
            "listings.csv": "listing_id,merchant_id,platform_id,title,category,currency,msrp\n"
            '="0012345",="M1","=""P1""",="a title",food,="CNY",="10"\n'
            '=" L2 ",M1,P1,t,food,CNY,"=""1,299.00"""\n'
            '="",M1,P1,t,food,CNY,\n'
        }
    )
    rows = con.execute(
        "SELECT listing_id, merchant_id, platform_id, title, currency, msrp::VARCHAR "
        "FROM listings ORDER BY listing_id"
    ).fetchall()
    assert rows == [
        ("0012345", "M1", "P1", '="a title"', "CNY", "10.00"),  # text is kept as given
        ("L2", "M1", "P1", "t", "CNY", "1299.00"),
    ]
    assert report.tables["listings"].quarantined == 1
    [(_, line, column, why)] = quarantine(con)
    assert (line, column) == (4, "listing_id")
    assert "required value is empty" in why


@pytest.mark.parametrize(
    "text",
    ["7.50012E+13", "3.45679E+18", "1.2E+11", "7.50012e+13", '"7,50012E+13"', "7.50012E13"]
    + ["1E+15", "7.50012E+013"],
)
def test_an_id_a_spreadsheet_wrote_in_scientific_notation_is_quarantined(ingest, con, text):
    """Its digits are gone: stored, it would be a parcel or an order that meets nothing."""
    report = ingest(
        {
            "listings.csv": "listing_id,merchant_id,platform_id,title,category,currency\n"
            f"{text},M1,P1,t,food,CNY\nL2,M1,P1,1.2E+5 ml,food,CNY\nE+1,M1,P1,t,food,CNY\n"
            # Excel writes no number under 12 digits so; a SKU may look like one
            "7.5E+2,M1,P1,t,food,CNY\n1.0E+1,M1,P1,t,food,CNY\n3E5,M1,P1,t,food,CNY\n"
        }
    )
    assert report.tables["listings"].stored == 5  # a title may say so; E+1 is no number
    [(_, line, column, why)] = quarantine(con)
    assert (line, column) == (2, "listing_id")
    assert "scientific notation" in why and "export the column as text" in why


def test_nullable_empty_is_null_required_empty_is_quarantined(ingest, con):
    report = ingest(
        {
            "price_observations.csv": price_file(
                "L1,2026-11-11T00:00:00Z,1,,,,", ",2026-11-11T00:00:00Z,1,,,,"
            )
        }
    )
    assert one(con, "SELECT reference_price IS NULL AND channel IS NULL FROM price_observations")
    assert report.tables["price_observations"].quarantined == 1
    [(_, line, column, why)] = quarantine(con)
    assert (line, column) == (3, "listing_id")
    assert "required value is empty" in why


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("quantity", "0", "must be at least 1"),
        ("quantity", "-1", "must be at least 1"),
        ("quantity", "1.5", "not a whole number"),
        ("quantity", "2.01", "not a whole number"),
        ("quantity", "0.0", "must be at least 1"),
        ("quantity", "2.", "not a whole number"),
        ("quantity", "many", "not a whole number"),
        ("unit_price", "-0.01", "negative amount"),
        ("status", "lost", "not one of"),
        ("paid_at", "", "required value is empty"),
    ],
)
def test_order_rules(ingest, con, column, value, reason):
    row = {
        "order_id": "O1",
        "listing_id": "L1",
        "merchant_id": "M1",
        "buyer_id": "B1",
        "quantity": "2",
        "unit_price": "10.00",
        "paid_at": "2026-11-11T00:00:00Z",
        "status": "paid",
    }
    row[column] = value
    ingest({"orders.csv": ",".join(row) + "\n" + ",".join(row.values()) + "\n"})
    [(_, line, col, why)] = quarantine(con)
    assert line == 2
    assert col == column and reason in why


def test_good_order_and_enum_case(ingest, con):
    ingest(
        {
            "orders.csv": "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,status\n"
            'O1,L1,M1,B1,"1,000",10.00,2026-11-11T00:00:00Z, Shipped \n'
        }
    )
    assert con.execute("SELECT quantity, status FROM orders").fetchone() == (1000, "shipped")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("交易成功", "confirmed"),
        ("买家已付款，等待卖家发货", "paid"),  # a Taobao export, full-width comma and all
        ('"卖家已发货,等待买家确认"', "shipped"),  # CSV-quoted, with an ASCII comma
        ("等待出库", "paid"),  # JD
        (" 已取消 ", "cancelled"),
        ("退款成功", "refunded"),
        ("Canceled", "cancelled"),
        ("已发货，待签收", "shipped"),  # Pinduoduo
        ("WAIT_SELLER_SEND_GOODS", "paid"),  # Taobao's API
        ("TRADE_FINISHED", "confirmed"),
    ],
)
def test_an_exports_own_words_for_an_order_status_are_read(ingest, con, text, expected):
    ingest(
        {
            "orders.csv": "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,status\n"
            f"O1,L1,M1,B1,1,10.00,2026-11-11T00:00:00Z,{text}\n"
        }
    )
    assert con.execute("SELECT status FROM orders").fetchone() == (expected,)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("揽收", "pickup"),
        ("已揽件", "pickup"),
        ("Picked Up", "pickup"),
        ("运输中", "transit"),
        ("InTransit", "transit"),
        ("派件中", "out_for_delivery"),
        ("OutForDelivery", "out_for_delivery"),
        ("已签收", "delivered"),
        ("妥投", "delivered"),
        ("拒收", "exception"),
        ("AttemptFail", "exception"),
        # a hub-to-hub feed (中通, 申通): 收件 -> 发件 -> 到件 -> 派件 -> 签收
        ("收件", "pickup"),
        ("发件", "transit"),
        ("到件", "transit"),
        ("代签收", "delivered"),
        ("派件异常", "exception"),
        ("在途中", "transit"),  # kdniao's
        ("清关中", "transit"),
    ],
)
def test_a_carrier_feeds_own_words_for_a_scan_are_read(ingest, con, text, expected):
    ingest(
        {
            "tracking_events.csv": "carrier,tracking_no,event_at,event_type\n"
            f"SF,T1,2026-11-11T00:00:00Z,{text}\n"
        }
    )
    assert con.execute("SELECT event_type FROM tracking_events").fetchone() == (expected,)


@pytest.mark.parametrize(
    ("table", "header", "text"),
    [
        # closed: refunded or cancelled, the export does not say which
        (
            "orders",
            "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,status",
            "交易关闭",
        ),
        # not paid: no order of the model
        (
            "orders",
            "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,status",
            "等待买家付款",
        ),
        # AfterShip: the buyer may collect it at a locker (no carrier pickup); a label printed
        ("tracking_events", "carrier,tracking_no,event_at,event_type", "AvailableForPickup"),
        ("tracking_events", "carrier,tracking_no,event_at,event_type", "InfoReceived"),
    ],
)
def test_a_word_that_could_mean_two_things_is_quarantined_not_guessed(
    ingest, con, table, header, text
):
    row = (
        "O1,L1,M1,B1,1,10.00,2026-11-11T00:00:00Z"
        if table == "orders"
        else "SF,T1,2026-11-11T00:00:00Z"
    )
    report = ingest({f"{table}.csv": f"{header}\n{row},{text}\n"})
    assert report.tables[table].quarantined == 1
    [(_, _, column, why)] = quarantine(con)
    assert column in ("status", "event_type") and "not one of" in why


@pytest.mark.parametrize(
    ("table", "header", "row", "column", "reason"),
    [
        (
            "reviews",
            "review_id,listing_id,buyer_id,rating,created_at",
            "R1,L1,B1,6,2026-11-11",
            "rating",
            "1..5",
        ),
        (
            "reviews",
            "review_id,listing_id,buyer_id,rating,created_at",
            "R1,L1,B1,0,2026-11-11",
            "rating",
            "1..5",
        ),
        (
            "price_observations",
            PRICE_HEADER,
            "L1,2026-11-11,1,,,101,",
            "claimed_discount_pct",
            "0..100",
        ),
        (
            "price_observations",
            PRICE_HEADER,
            "L1,2026-11-11,1,,,-1,",
            "claimed_discount_pct",
            "0..100",
        ),
        (
            "shipments",
            "order_id,carrier,tracking_no,weight_grams",
            "O1,SF,T1,-3",
            "weight_grams",
            "negative",
        ),
        (
            "listings",
            "listing_id,merchant_id,platform_id,title,category,currency",
            "L1,M1,P1,t,c,RMB¥",
            "currency",
            "three-letter",
        ),
    ],
)
def test_kind_ranges(ingest, con, table, header, row, column, reason):
    ingest({f"{table}.csv": f"{header}\n{row}\n"})
    [(_, line, col, why)] = quarantine(con)
    assert line == 2
    assert col == column and reason in why


def test_percent_accepts_percent_sign(ingest, con):
    ingest({"price_observations.csv": price_file("L1,2026-11-11T00:00:00Z,1,,,33.33%,")})
    assert one(con, "SELECT claimed_discount_pct::VARCHAR FROM price_observations") == "33.33"


def test_gzip_csv(ingest, con):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
        gz.write(price_file('L1,2026-11-11T00:00:00Z,"¥1,299.00",,,,').encode())
    report = ingest({"price_observations.csv.gz": buf.getvalue()})
    assert report.files[0].format == "csv"
    assert stored_price(con) == "1299.00"


def test_gbk_gzip_csv(ingest, con):
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as gz:
        gz.write(("merchant_id,platform_id,name\n" + "M1,P1,华为官方旗舰店\n" * 1).encode("gbk"))
    report = ingest({"merchants.csv.gz": buf.getvalue()}, encoding="gb18030")
    assert report.files[0].encoding == "gb18030"
    assert one(con, "SELECT name FROM merchants") == "华为官方旗舰店"


def test_json_lines(ingest, con):
    lines = [
        '{"listing_id": "L1", "observed_at": "2026-11-11 00:00:00", "price": "¥1,299.00"}',
        '{"listing_id": "L2", "observed_at": "2026-11-11T00:00:00Z", "price": 12.5, "channel": null}',
        "not json",
        "[1, 2]",
        '{"listing_id": "L3", "observed_at": "2026-11-11T00:00:00Z", "price": "1.001"}',
    ]
    report = ingest({"price_observations.jsonl": "\n".join(lines) + "\n"}, tz="Asia/Shanghai")
    counts = report.tables["price_observations"]
    assert (counts.read, counts.stored, counts.quarantined) == (5, 2, 3)
    assert con.execute(
        "SELECT listing_id, observed_at::VARCHAR, price::VARCHAR FROM price_observations ORDER BY 1"
    ).fetchall() == [
        ("L1", "2026-11-10 16:00:00+00", "1299.00"),
        ("L2", "2026-11-11 00:00:00+00", "12.50"),
    ]
    assert [(q[1], q[2]) for q in quarantine(con)] == [(3, None), (4, None), (5, "price")]


def test_ndjson_suffix(ingest, con):
    ingest({"platforms.ndjson": '{"platform_id": "P1", "name": "Tmall"}\n'})
    assert one(con, "SELECT name FROM platforms") == "Tmall"


def test_parquet(ingest, con, tmp_path):
    table = pa.table(
        {
            "listing_id": ["L1", "L2"],
            "observed_at": ["2026-11-11 00:00:00", "2026-11-11T00:00:00Z"],
            "price": pa.array([12.5, -1.0]),
        }
    )
    sink = io.BytesIO()
    pq.write_table(table, sink)
    report = ingest({"price_observations.parquet": sink.getvalue()}, tz="Asia/Shanghai")
    assert report.files[0].format == "parquet"
    assert con.execute(
        "SELECT observed_at::VARCHAR, price::VARCHAR FROM price_observations"
    ).fetchall() == [("2026-11-10 16:00:00+00", "12.50")]
    [(_, line, column, why)] = quarantine(con)
    assert (line, column) == (2, "price")
    assert "negative" in why


def test_bytes_invalid_in_gbk_are_quarantined_not_replaced(ingest, con):
    names = "".join(f"M{i},P1,华为官方旗舰店{i}\n" for i in range(20)).encode("gbk")
    content = b"merchant_id,platform_id,name\n" + names + b"M99,P1,\x80\xff\n"
    report = ingest({"merchants.csv": content})
    counts = report.tables["merchants"]
    assert report.files[0].encoding == "gb18030"
    assert (counts.read, counts.stored, counts.quarantined) == (21, 20, 1)
    [(_, line, _, why)] = quarantine(con)
    assert line == 22 and "invalid encoding" in why


def test_utf16_with_bom_is_read(ingest, con):
    report = ingest({"platforms.csv": "platform_id,name\nP1,天猫\n".encode("utf-16")})
    assert report.files[0].encoding == "utf-16"
    assert one(con, "SELECT name FROM platforms") == "天猫"


@pytest.mark.parametrize(("text", "expected"), [("2.0", 2), ("3.000", 3), ('"1,000.0"', 1000)])
def test_a_whole_number_written_with_zero_decimals_is_that_number(ingest, con, text, expected):
    # a float or decimal column exports a whole value as 2.0; only a lost fraction refuses
    row = "O1,L1,M1,B1,{q},10.00,2026-11-11T00:00:00Z,paid"
    header = "order_id,listing_id,merchant_id,buyer_id,quantity,unit_price,paid_at,status"
    report = ingest({"orders.csv": header + "\n" + row.format(q=text) + "\n"})
    assert report.tables["orders"].stored == 1, quarantine(con)
    assert one(con, "SELECT quantity FROM orders") == expected


def test_typed_parquet_decimals_and_floats_with_whole_values_are_stored(ingest, con, tmp_path):
    # a platform's export: money as DECIMAL(18,4), the quantity as a DOUBLE; every row was
    # quarantined ("more than 2 decimal places", "not a whole number") though none loses a digit
    out = tmp_path / "orders.parquet"
    duckdb.connect().execute(
        f"""COPY (SELECT * FROM (VALUES
            ('O1', 'L1', 'M1', 'B1', 2.0::DOUBLE, 1.10::DECIMAL(18,4), '2026-11-11T00:00:00Z', 'paid'),
            ('O2', 'L1', 'M1', 'B1', 1.5::DOUBLE, 3.00::DECIMAL(18,4), '2026-11-11T00:00:00Z', 'paid'),
            ('O3', 'L1', 'M1', 'B1', 1.0::DOUBLE, 2.3456::DECIMAL(18,4), '2026-11-11T00:00:00Z', 'paid')
        ) t(order_id, listing_id, merchant_id, buyer_id, quantity, unit_price, paid_at, status))
        TO '{out}' (FORMAT parquet)"""
    )
    report = ingest({"orders.parquet": out.read_bytes()})
    assert (report.tables["orders"].stored, report.tables["orders"].quarantined) == (1, 2)
    rows = con.execute("SELECT order_id, quantity, unit_price::VARCHAR FROM orders").fetchall()
    assert rows == [("O1", 2, "1.10")]
    reasons = {(col, why) for _, _, col, why in quarantine(con)}
    assert reasons == {
        ("quantity", "quantity: not a whole number"),
        ("unit_price", "unit_price: more than 2 decimal places (not rounded)"),
    }
