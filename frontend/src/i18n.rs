//! Chinese first, English on request. Every label the storefront shows is here, and this module
//! owns the language in force: restored from `storage` at start, changed only by `set_lang`.

use leptos::prelude::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    fn from_code(code: Option<&str>) -> Self {
        if code == Some("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

macro_rules! dictionary {
    ($($key:ident => $zh:literal, $en:literal;)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[allow(non_camel_case_types)]
        pub enum K { $($key),* }

        pub fn text(lang: Lang, key: K) -> &'static str {
            match (key, lang) {
                $((K::$key, Lang::Zh) => $zh, (K::$key, Lang::En) => $en,)*
            }
        }
    };
}

dictionary! {
    app_name => "傅鲜生", "Fu Xian Sheng";
    tagline => "振大社区网上菜场 · 送菜到家", "Zhenda community market · delivered home";
    nav_home => "首页", "Home";
    nav_group => "团购", "Group buy";
    nav_cart => "购物车", "Cart";
    nav_orders => "订单", "Orders";
    nav_me => "我的", "Me";
    search_placeholder => "搜索蔬菜、水果、肉蛋…", "Search vegetables, fruit, meat…";
    search => "搜索", "Search";
    categories => "分类", "Categories";
    boxes => "振大社区菜盒子", "Zhenda veg boxes";
    stalls => "市场摊位", "Market stalls";
    all_products => "全部商品", "All products";
    loading => "正在加载…", "Loading…";
    retry => "重试", "Try again";
    load_failed => "加载失败", "Could not load";
    network_failed => "网络不通，请检查网络后重试", "No connection. Check the network and try again.";
    no_products => "没有找到商品", "No products found";
    stock => "库存", "In stock";
    sold_out => "已售完", "Sold out";
    limit => "每单限购", "Limit per order";
    stall => "摊位", "Stall";
    origin => "产地", "Origin";
    stall_closed => "暂停营业", "Closed";
    stall_rests => "休市", "closed";
    box_contents => "盒内有", "In the box";
    price_record => "价格记录", "Price record";
    back => "返回", "Back";
    login_title => "手机号登录", "Log in with your phone";
    phone => "手机号", "Phone number";
    phone_placeholder => "请输入11位手机号", "11-digit mobile number";
    code => "验证码", "Code";
    code_placeholder => "6位验证码", "6-digit code";
    send_code => "获取验证码", "Send code";
    resend_in => "秒后重发", "s to resend";
    demo_code => "演示模式验证码", "Demo code";
    login => "登录", "Log in";
    logging_in => "正在登录…", "Logging in…";
    wechat_login => "微信一键登录", "Log in with WeChat";
    or => "或", "or";
    logout => "退出登录", "Log out";
    not_logged_in => "您还没有登录", "You are not logged in";
    go_login => "去登录", "Log in";
    my_account => "我的账户", "My account";
    roles => "身份", "Roles";
    role_resident => "居民", "Resident";
    role_volunteer => "志愿者", "Volunteer";
    role_vendor => "摊主", "Vendor";
    role_staff => "工作人员", "Staff";
    role_leader => "团长", "Group leader";
    role_producer => "供货方", "Producer";
    household => "住址", "Home address";
    no_household => "还没有登记住址，下单时可填写", "No address on record yet; add one when you order";
    quarantined => "居家隔离", "Home quarantine";
    hardship => "困难家庭", "Hardship";
    elderly => "老人户", "Elderly";
    language => "语言 / Language", "Language / 语言";
    not_found => "页面不存在", "Page not found";
    add_to_cart => "加入购物车", "Add to cart";
    added => "已加入购物车", "Added to cart";
    go_checkout => "去结算", "Check out";
    choose_slot_first => "请先选择时段", "Please choose a time first";
    order_no => "订单号", "Order no.";
    pay_in_wechat => "请在微信里打开傅鲜生付款", "Open Fu Xian Sheng in WeChat to pay";
    price_board => "价格公示 · 稳物价", "Price board";
    more => "加载更多", "More";
    donate => "爱心捐助", "Donate";
    refund_due => "待退款", "to be refunded";
    refund_requested => "退款中", "refunding";
    refund_succeeded => "已退回", "refunded";
    refund_failed => "退款未成功，工作人员会处理", "refund failed: staff will see to it";
    st_pending_payment => "待付款", "Awaiting payment";
    st_placed => "已下单", "Placed";
    st_paid => "已付款", "Paid";
    st_confirmed => "摊位已确认", "Confirmed by stalls";
    st_packed => "已打包", "Packed";
    st_out_for_delivery => "配送中", "Out for delivery";
    st_delivered => "已送达", "Delivered";
    st_cancelled => "已取消", "Cancelled";
    st_expired => "已过期", "Expired";
    staff_page => "时段与住户管理", "Slots and households";
    save => "保存", "Save";
    not_allowed => "这个页面不对您的账户开放", "This page is not open to your account";
    edit_address => "修改住址", "Change address";
    saved => "已保存", "Saved";
    building => "号楼", "Bldg";
    unit => "单元", "Unit";
    room => "室", "Room";
    gb_joined => "已参团", "Joined";
    gb_needs => "成团需", "Needs";
    gb_hh => "户", " households";
    gb_ended => "已截止", "Closed";
    gb_joined_ok => "已参团，截团后生成订单", "You have joined; the order is made when it closes";
    gb_open => "进行中", "Open";
    gb_confirmed => "已成团", "Confirmed";
    gb_failed => "未成团", "Did not go ahead";
    gb_cancelled => "已取消", "Called off";
    gb_sure => "确定吗？再按一次执行", "Sure? Press again to do it";
    gb_title_field => "团购名称", "Title";
    gb_buildings => "楼栋", "Buildings";
    gb_min_households => "成团户数", "Households needed";
    gb_head_start => "优先户提前（分钟）", "Priority head start (minutes)";
    gb_add_item => "添加", "Add";
    gb_hours => "几小时后截止", "Closes in (hours)";
    gb_placed_ok => "已为住户下单", "The share is placed";
    gb_none_run => "还没有团购", "No group-buys yet";
    gb_households_count => "户数", "Households";
    stall_orders => "摊位订单", "Stall orders";
    bad_price => "价格请写成 1.20 这样", "Write the price like 1.20";
    part_pending => "待确认", "To confirm";
    part_confirmed => "已确认", "Confirmed";
    part_packed => "已打包", "Packed";
    deliveries => "配送", "Deliveries";
    batch_waiting => "等待摊位", "Waiting for stalls";
    batch_ready => "可以认领", "Ready";
    batch_claimed => "已认领", "Claimed";
    batch_out => "配送中", "Out";
    batch_done => "已送完", "Done";
    not_our_qr => "这不是傅鲜生的收货码", "Not a Fu Xian Sheng hand-off code";
    not_this_batch => "这个收货码不是本批次要送的订单", "That code is for an order not on this round";
    handed_over => "已交付", "Handed over";
    handoff_reset_done => "已重置，可以再输入收货码", "Reset: the code can be typed again";
    left_at_door => "已放在门口", "Left at the door";
    problem_sent => "已收到您的反馈，工作人员会联系您", "Thank you: staff will get back to you";
}

thread_local! {
    /// The language in force, for views (which follow its changes) and for plain code such as
    /// async tasks and handlers (which read it as it is). Reference-counted rather than owned by
    /// a component, so no page's end can take it away.
    static LANG: ArcRwSignal<Lang> = ArcRwSignal::new(Lang::from_code(crate::storage::lang().as_deref()));
}

/// The language in force; a view that calls this follows its changes.
pub fn lang() -> Lang {
    LANG.with(|l| l.get())
}

/// A unit of sale in the current language, for a view (it follows a change of language): the
/// market's units are Chinese, and 斤 is half a kilo.
pub fn unit(u: &str) -> String {
    if lang() == Lang::Zh {
        return u.to_owned();
    }
    match u {
        "斤" => "500 g",
        "公斤" => "kg",
        "克" => "g",
        "个" | "只" | "枚" | "根" | "块" | "颗" | "条" => "each",
        "袋" => "bag",
        "盒" => "box",
        "桶" => "can",
        "把" => "bunch",
        "瓶" => "bottle",
        "份" => "portion",
        "箱" => "case",
        "包" => "pack",
        other => other,
    }
    .to_owned()
}

/// The server's words in the current language: its messages are written "中文 (English)", and
/// one language at a time reads better; anything else is kept whole. In a view it follows a
/// change of language.
pub fn in_language(s: &str) -> String {
    let Some(body) = s.strip_suffix(')') else { return s.to_owned() };
    // The '(' that the final ')' closes.
    let mut depth = 0;
    let open = body.char_indices().rev().find_map(|(i, c)| match c {
        ')' => {
            depth += 1;
            None
        }
        '(' if depth == 0 => Some(i),
        '(' => {
            depth -= 1;
            None
        }
        _ => None,
    });
    let Some(open) = open else { return s.to_owned() };
    let (zh, en) = (body[..open].trim_end(), &body[open + 1..]);
    if zh.is_empty() || en.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)) {
        return s.to_owned();
    }
    if lang() == Lang::Zh { zh } else { en }.to_owned()
}

/// Changes the language everywhere, and remembers it for the next visit.
pub fn set_lang(lang: Lang) {
    crate::storage::set_lang(lang.code());
    LANG.with(|l| l.set(lang));
}

/// The label for `key` in the current language; re-renders when the language changes.
pub fn t(key: K) -> impl Fn() -> &'static str + Clone + Send + Sync + 'static {
    let lang = LANG.with(|l| l.clone());
    move || text(lang.get(), key)
}

/// A label only one bundle's pages use, kept out of the shared dictionary so that the other
/// bundles (above all the residents' first visit) do not carry it; re-renders like `t`.
pub fn tr(zh: &'static str, en: &'static str) -> impl Fn() -> &'static str + Clone + Send + Sync + 'static {
    let lang = LANG.with(|l| l.clone());
    move || if lang.get() == Lang::Zh { zh } else { en }
}

/// For plain code (not a view), anywhere: the label in the current language.
pub fn now(key: K) -> &'static str {
    text(LANG.with(|l| l.get_untracked()), key)
}

/// Keeps `<html lang>` in step with the language, for screen readers and fonts.
pub fn mark_document_language() {
    Effect::new(move || {
        let lang = lang();
        if let Some(html) = document().document_element() {
            let _ = html.set_attribute("lang", if lang == Lang::Zh { "zh-CN" } else { "en" });
            document().set_title(if lang == Lang::Zh {
                "傅鲜生 · 振大社区网上菜场"
            } else {
                "Fu Xian Sheng · Zhenda community market"
            });
        }
    });
}
