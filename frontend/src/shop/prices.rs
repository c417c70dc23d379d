//! The public price board (价格公示 · 稳物价): today's price of every product, how it moved since
//! the morning, the emergency cap when staff have switched it on, and a product's history as a
//! small chart when its row is opened, with the lots on sale and their certificates; and the day's
//! rapid tests (农残快检公示), with what was done with a failed one.

use crate::api;
use crate::components::Load;
use crate::i18n::{t, tr, K};
use leptos::prelude::*;
use shared::api::{List, Lot, PriceBoard, PricePoint, TestBoardEntry};

#[component]
pub fn PricesPage() -> impl IntoView {
    let board = Load::of(api::PRICES);
    let open = RwSignal::new(None::<i64>);
    view! {
        <h1>{t(K::price_board)}</h1>
        {board.show(move |b: PriceBoard| view! {
            {b.cap.enabled.then(|| view! {
                <p class="banner" id="price-cap" role="status">"🛡️ " {tr("稳物价限价中：每天涨幅不超过", "Price cap on: no rise of more than")} " " {b.cap.max_daily_rise_percent} "%"</p>
            })}
            <ul class="price-board">
                {b.items.into_iter().map(|i| {
                    let id = i.product_id.get();
                    let change = i.day_open_fen.filter(|o| o.get() > 0).map(|o| (i.price_fen.get() - o.get()) * 1000 / o.get());
                    view! {
                        <li class="price-row" data-product=id>
                            <button class="price-line" on:click=move |_| open.update(|o| *o = if *o == Some(id) { None } else { Some(id) })>
                                <span class="price-name">{i.name.clone()} <small>{i.vendor_name.clone()}</small></span>
                                <span class="price-now">{i.price_fen.yuan()} <small>"/" {let u = i.unit.clone(); move || crate::i18n::unit(&u)}</small></span>
                                <span class=move || match change { Some(c) if c > 0 => "price-move up", Some(c) if c < 0 => "price-move down", _ => "price-move" }>
                                    {match change {
                                        Some(c) if c != 0 => format!("{}{}.{}%", if c > 0 { "▲" } else { "▼" }, c.abs() / 10, c.abs() % 10),
                                        _ => "—".to_owned(),
                                    }}
                                </span>
                            </button>
                            {move || (open.get() == Some(id)).then(|| view! { <History id=id/> <Lots id=id/> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        })}
        <TestBoard/>
    }
}

/// Today's rapid tests, each with its lot's product, stall and origin; a failed one says the lot
/// was stopped and why.
#[component]
fn TestBoard() -> impl IntoView {
    let tests = Load::of("/api/v1/tests");
    view! {
        <div class="card" id="test-board">
            <h2>{tr("今日农残快检公示", "Today's rapid tests")}</h2>
            {tests.show_items(|list: Vec<TestBoardEntry>| if list.is_empty() {
                view! { <p class="note">{tr("今天还没有检测记录", "No tests recorded today yet")}</p> }.into_any()
            } else {
                view! { <ul class="households">{list.into_iter().map(|e| view! {
                    <li class="test-row" data-lot=e.lot_id>
                        <strong translate="no">{e.product_name} " · " {e.vendor_name}</strong>
                        <span class="note" translate="no">{e.origin} " · " {e.test.method} " · " {e.test.by}</span>
                        {if e.test.result == "pass" {
                            view! { <span class="badge">{tr("合格", "Passed")}</span> }.into_any()
                        } else {
                            view! { <span class="badge warn">{tr("不合格", "Failed")} {e.hold_reason.map(|r| view! { " · " {tr("已停售", "stopped")} " " <span translate="no">{r}</span> })}</span> }.into_any()
                        }}
                    </li>
                }).collect_view()}</ul> }.into_any()
            })}
        </div>
    }
}

/// A product's lots on sale: where each was grown, who certified it and when, its latest test.
#[component]
fn Lots(id: i64) -> impl IntoView {
    let lots = Load::new(move || format!("/api/v1/products/{id}/lots"));
    lots.show_items(|list: Vec<Lot>| {
        list.into_iter()
            .map(|l| {
                let test = l.tests.first().map(|t| if t.result == "pass" { tr("快检合格", "Test passed") } else { tr("快检不合格", "Test failed") });
                view! {
                    <p class="note lot-certificate">"📄 " {tr("合格证", "Certificate")} ": " <span translate="no">{l.certificate.origin} " · " {l.certificate.issuer}</span> " · "
                        {l.certificate.issued_at.get(..10).unwrap_or_default().to_owned()} {test.map(|t| view! { " · " {t} })}
                        {l.certificate_photo.map(|p| view! { " · " <a href=p.url target="_blank">{tr("看照片", "See the photo")}</a> })}</p>
                }
            })
            .collect_view()
    })
}

/// A product's prices over time as a line (oldest left), with the lowest and highest.
#[component]
fn History(id: i64) -> impl IntoView {
    let points = Load::new(move || api::prices_path(id));
    points.show(move |list: List<PricePoint>| {
        // Newest first from the server: the chart reads left to right, oldest first.
        let prices: Vec<i64> = list.items.iter().rev().map(|p| p.price_fen.get()).collect();
        let (low, high) = (prices.iter().copied().min().unwrap_or(0), prices.iter().copied().max().unwrap_or(0));
        let span = (high - low).max(1) as f64;
        let step = if prices.len() > 1 { 300.0 / (prices.len() - 1) as f64 } else { 0.0 };
        let line: Vec<String> = prices
            .iter()
            .enumerate()
            .map(|(n, p)| format!("{:.1},{:.1}", n as f64 * step, 70.0 - (*p - low) as f64 / span * 60.0))
            .collect();
        let yuan = |f: i64| format!("¥{}.{:02}", f / 100, f % 100);
        view! {
            <div class="price-chart">
                <svg viewBox="-5 0 310 80" role="img" aria-label=move || t(K::price_record)()>
                    <polyline points=line.join(" ") fill="none" stroke="currentColor" stroke-width="3" stroke-linejoin="round"/>
                </svg>
                <p class="note">{tr("最低", "lowest")} " " {yuan(low)} " · " {tr("最高", "highest")} " " {yuan(high)} " · " {prices.len()} " " {tr("次调价", "prices")}</p>
            </div>
        }
    })
}
