//! Lots (批次): what a stall may take in (never without its certificate, 无证不得收购), what a
//! rapid test does to a lot, which lots an order line is packed from (oldest first), and what a
//! hold takes off sale. Since 2026-02-01 the 合格证 rules require a certificate with every lot of
//! vegetables, fruit, eggs, meat and farmed fish a market takes in, kept six months or more.

use super::time::{parse_api, shanghai_day};
use super::Refusal;
use chrono::{DateTime, Utc};
use shared::api::{Certificate, LotTest, TakeInLot};
use shared::ErrorCode;

/// The most a lot may hold, in the product's units.
pub const MAX_LOT_QUANTITY: i64 = 1_000_000;

/// A certificate with its issue time read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedCertificate {
    pub certificate: Certificate,
    pub issued_at: DateTime<Utc>,
}

/// A test with its time and outcome read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedTest {
    pub method: String,
    pub passed: bool,
    /// As recorded: `pass` or `fail`.
    pub result: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// What taking a lot in writes: the lot, its tests, and whether it goes on sale (its quantity
/// added to the stock) or is held at once (a failed test: `hold_reason`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakeIn {
    pub quantity: i64,
    pub certificate: CheckedCertificate,
    pub tests: Vec<CheckedTest>,
    pub hold_reason: Option<String>,
}

fn missing(part: &str) -> Refusal {
    Refusal::new(
        ErrorCode::CertificateRequired,
        format!("没有合格证不能收货：请填写合格证的{part} (no lot is taken in without its certificate: {part})"),
    )
}

/// A time as RFC 3339 or a Shanghai day (its start).
fn when(s: &str) -> Option<DateTime<Utc>> {
    parse_api(s).ok().or_else(|| shanghai_day(s).ok().map(|(start, _)| start))
}

fn certificate(c: Option<&Certificate>, now: DateTime<Utc>) -> Result<CheckedCertificate, Refusal> {
    let c = c.ok_or_else(|| missing("全部内容 (certificate)"))?;
    let trimmed = Certificate {
        product: c.product.trim().to_owned(),
        quantity: c.quantity.trim().to_owned(),
        origin: c.origin.trim().to_owned(),
        issued_at: c.issued_at.trim().to_owned(),
        issuer: c.issuer.trim().to_owned(),
        contact: c.contact.trim().to_owned(),
        qr: c.qr.as_deref().map(str::trim).filter(|q| !q.is_empty()).map(str::to_owned),
    };
    for (value, part) in [
        (&trimmed.product, "品名 (product)"),
        (&trimmed.quantity, "数量 (quantity)"),
        (&trimmed.origin, "产地 (origin)"),
        (&trimmed.issuer, "开具者 (issuer)"),
        (&trimmed.contact, "联系方式 (contact)"),
    ] {
        if value.is_empty() || value.chars().count() > 100 {
            return Err(missing(part));
        }
    }
    if trimmed.qr.as_ref().is_some_and(|q| q.chars().count() > 2000) {
        return Err(Refusal::field("certificate.qr", "二维码内容太长 (at most 2,000 characters)"));
    }
    let issued_at = when(&trimmed.issued_at).ok_or_else(|| missing("开具日期 (issued_at: RFC 3339 or YYYY-MM-DD)"))?;
    if issued_at > now + chrono::Duration::hours(1) {
        return Err(Refusal::field("certificate.issued_at", "开具日期不能在将来 (not in the future)"));
    }
    Ok(CheckedCertificate { certificate: trimmed, issued_at })
}

/// A rapid test as recorded: a method, `pass` or `fail`, who and when (not in the future).
pub fn check_test(t: &LotTest, now: DateTime<Utc>) -> Result<CheckedTest, Refusal> {
    let method = t.method.trim();
    let by = t.by.trim();
    if method.is_empty() || method.chars().count() > 60 {
        return Err(Refusal::field("tests.method", "请写检测方法，如“酶抑制率法” (the method)"));
    }
    if by.is_empty() || by.chars().count() > 60 {
        return Err(Refusal::field("tests.by", "请写检测人 (who tested it)"));
    }
    let passed = match t.result.trim() {
        "pass" => true,
        "fail" => false,
        _ => return Err(Refusal::field("tests.result", "结果为 pass（合格）或 fail（不合格）")),
    };
    let at = parse_api(&t.at).map_err(|e| Refusal::field("tests.at", &e))?;
    if at > now + chrono::Duration::hours(1) {
        return Err(Refusal::field("tests.at", "检测时间不能在将来 (not in the future)"));
    }
    Ok(CheckedTest { method: method.to_owned(), passed, result: t.result.trim().to_owned(), by: by.to_owned(), at })
}

/// Why a failed test holds a lot.
pub fn failed_reason(t: &CheckedTest) -> String {
    format!("快检不合格（{}，{}）(failed a rapid test)", t.method, t.by)
}

/// A stall takes a lot in: only for its own product (`product_stall`, None: no such product),
/// with the certificate whole, a sensible quantity and any tests well formed. A failed test
/// takes it in held: recorded, never on sale.
pub fn decide_take_in(
    stall: i64,
    product_stall: Option<i64>,
    req: &TakeInLot,
    now: DateTime<Utc>,
) -> Result<TakeIn, Refusal> {
    if product_stall != Some(stall) {
        return Err(Refusal::new(ErrorCode::NotFound, "没有这个商品 (no such product of your stall)"));
    }
    let certificate = certificate(req.certificate.as_ref(), now)?;
    if !(1..=MAX_LOT_QUANTITY).contains(&req.quantity) {
        return Err(Refusal::field("quantity", "数量为 1 到 1,000,000 (1 to 1,000,000)"));
    }
    if req.tests.len() > 10 {
        return Err(Refusal::field("tests", "最多 10 次检测 (at most 10)"));
    }
    let tests = req.tests.iter().map(|t| check_test(t, now)).collect::<Result<Vec<_>, _>>()?;
    let hold_reason = tests.iter().find(|t| !t.passed).map(failed_reason);
    Ok(TakeIn { quantity: req.quantity, certificate, tests, hold_reason })
}

/// One draw of packing: for the order line of `line` (a product, or a 菜盒子), `quantity` of
/// `product` from its lots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub line: i64,
    pub product: i64,
    pub quantity: i64,
}

/// What packing an order's lines (product, quantity) draws from lots: a product's line, itself;
/// a 菜盒子's line (`contents`: each box's (product, quantity per box)), each of its contents
/// times the boxes, so a recall of a cabbage reaches the boxes that held one.
pub fn draws(lines: &[(i64, i64)], contents: &std::collections::BTreeMap<i64, Vec<(i64, i64)>>) -> Vec<Draw> {
    let mut draws = Vec::new();
    for &(line, quantity) in lines.iter().filter(|(_, q)| *q > 0) {
        match contents.get(&line).filter(|items| !items.is_empty()) {
            Some(items) => {
                for &(product, per_box) in items {
                    let quantity = per_box.saturating_mul(quantity);
                    if quantity > 0 {
                        draws.push(Draw { line, product, quantity });
                    }
                }
            }
            None => draws.push(Draw { line, product: line, quantity }),
        }
    }
    draws
}

/// Which lots a line of `want` is packed from: the oldest first (`lots` as (lot, remaining),
/// oldest first, held ones left out), each taking what it still has. Less than `want` in all:
/// the rest came from stock that had no lot (goods from before lots were kept).
pub fn draw_oldest_first(lots: &[(i64, i64)], want: i64) -> Vec<(i64, i64)> {
    let mut left = want.max(0);
    let mut drawn = Vec::new();
    for &(lot, remaining) in lots {
        if left == 0 {
            break;
        }
        let take = remaining.min(left);
        if take > 0 {
            drawn.push((lot, take));
            left -= take;
        }
    }
    drawn
}

/// A lot as a hold sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldFacts {
    pub held: bool,
    /// Of the lot, not packed yet.
    pub remaining: i64,
    /// The product's stock for sale now.
    pub stock: i64,
}

/// Staff stop a lot (a recall, a failed test after it was taken in): what of it is not packed
/// yet leaves the stock at once (no more than the stock holds: some of it may be in orders not
/// packed yet, which packing then draws from other lots). Returns how much leaves the stock.
pub fn decide_hold(lot: Option<&HoldFacts>, reason: &str) -> Result<i64, Refusal> {
    let lot = lot.ok_or_else(|| Refusal::new(ErrorCode::NotFound, "没有这个批次 (no such lot)"))?;
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > 200 {
        return Err(Refusal::field("reason", "请写明原因（1到200字）(why, 1 to 200 characters)"));
    }
    if lot.held {
        return Err(Refusal::new(ErrorCode::WrongState, "这个批次已经停售 (the lot is held already)"));
    }
    Ok(lot.remaining.min(lot.stock).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        parse_api("2026-12-07T08:00:00+08:00").unwrap_or_default()
    }

    fn cert() -> Certificate {
        Certificate {
            product: "大白菜".into(),
            quantity: "500公斤".into(),
            origin: "山东寿光".into(),
            issued_at: "2026-12-06".into(),
            issuer: "寿光市洛城街道蔬菜合作社".into(),
            contact: "0536-5200000".into(),
            qr: None,
        }
    }

    fn lot(certificate: Option<Certificate>, tests: Vec<LotTest>) -> TakeInLot {
        TakeInLot { product_id: shared::ProductId(3), quantity: 200, certificate, tests }
    }

    fn test(result: &str) -> LotTest {
        LotTest {
            method: "酶抑制率法".into(),
            result: result.into(),
            by: "王检测".into(),
            at: "2026-12-07T07:30:00+08:00".into(),
        }
    }

    #[test]
    fn no_lot_is_taken_in_without_a_whole_certificate() {
        let code = |r: Result<TakeIn, Refusal>| r.map(|_| ()).map_err(|e| e.code);
        assert_eq!(code(decide_take_in(1, Some(1), &lot(None, vec![]), now())), Err(ErrorCode::CertificateRequired));
        for blank in 0..5 {
            let mut c = cert();
            [&mut c.product, &mut c.quantity, &mut c.origin, &mut c.issuer, &mut c.contact][blank].clear();
            let r = decide_take_in(1, Some(1), &lot(Some(c), vec![]), now());
            assert_eq!(code(r), Err(ErrorCode::CertificateRequired), "part {blank}");
        }
        let undated = Certificate { issued_at: "昨天".into(), ..cert() };
        assert_eq!(
            code(decide_take_in(1, Some(1), &lot(Some(undated), vec![]), now())),
            Err(ErrorCode::CertificateRequired)
        );
        let future = Certificate { issued_at: "2026-12-09".into(), ..cert() };
        assert_eq!(code(decide_take_in(1, Some(1), &lot(Some(future), vec![]), now())), Err(ErrorCode::InvalidField));
        assert_eq!(code(decide_take_in(1, Some(2), &lot(Some(cert()), vec![]), now())), Err(ErrorCode::NotFound));
        assert_eq!(code(decide_take_in(1, None, &lot(Some(cert()), vec![]), now())), Err(ErrorCode::NotFound));
        let none = TakeInLot { quantity: 0, ..lot(Some(cert()), vec![]) };
        assert_eq!(code(decide_take_in(1, Some(1), &none, now())), Err(ErrorCode::InvalidField));
        let bad = lot(Some(cert()), vec![test("合格")]);
        assert_eq!(code(decide_take_in(1, Some(1), &bad, now())), Err(ErrorCode::InvalidField));

        let taken = decide_take_in(1, Some(1), &lot(Some(cert()), vec![test("pass")]), now()).expect("taken in");
        assert_eq!((taken.quantity, taken.hold_reason.clone()), (200, None));
        assert_eq!(taken.certificate.issued_at, parse_api("2026-12-06T00:00:00+08:00").unwrap_or_default());
        let failed = decide_take_in(1, Some(1), &lot(Some(cert()), vec![test("pass"), test("fail")]), now());
        assert!(failed.expect("taken in, held").hold_reason.is_some_and(|r| r.contains("快检不合格")));
    }

    #[test]
    fn lines_are_packed_from_the_oldest_lots_first() {
        assert_eq!(draw_oldest_first(&[(1, 3), (2, 10)], 5), vec![(1, 3), (2, 2)]);
        assert_eq!(draw_oldest_first(&[(1, 0), (2, 10)], 5), vec![(2, 5)]);
        assert_eq!(draw_oldest_first(&[(1, 2)], 5), vec![(1, 2)], "the rest had no lot");
        assert_eq!(draw_oldest_first(&[(1, 2)], 0), vec![]);
    }

    #[test]
    fn a_box_is_packed_from_its_contents_lots() {
        let contents = std::collections::BTreeMap::from([(90, vec![(5, 2), (6, 1)])]);
        let draw = |line, product, quantity| Draw { line, product, quantity };
        // Two boxes (two cabbages and a radish each) and three cabbages on their own line.
        assert_eq!(draws(&[(90, 2), (5, 3), (7, 0)], &contents), vec![draw(90, 5, 4), draw(90, 6, 2), draw(5, 5, 3)]);
        // A box whose contents are not known (none on record) is drawn as itself.
        let empty = std::collections::BTreeMap::from([(90, vec![])]);
        assert_eq!(draws(&[(90, 1)], &empty), vec![draw(90, 90, 1)]);
    }

    #[test]
    fn a_hold_takes_what_is_left_of_the_lot_off_sale_once() {
        let facts = HoldFacts { held: false, remaining: 30, stock: 100 };
        assert_eq!(decide_hold(Some(&facts), "召回"), Ok(30));
        assert_eq!(decide_hold(Some(&HoldFacts { stock: 12, ..facts.clone() }), "召回"), Ok(12));
        let code = |r: Result<i64, Refusal>| r.map_err(|e| e.code);
        assert_eq!(code(decide_hold(Some(&facts), " ")), Err(ErrorCode::InvalidField));
        assert_eq!(code(decide_hold(Some(&HoldFacts { held: true, ..facts }), "召回")), Err(ErrorCode::WrongState));
        assert_eq!(code(decide_hold(None, "召回")), Err(ErrorCode::NotFound));
    }
}
