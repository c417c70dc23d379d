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
    household => "住址", "Home address";
    no_household => "还没有登记住址，下单时可填写", "No address on record yet; add one when you order";
    quarantined => "居家隔离", "Home quarantine";
    hardship => "困难家庭", "Hardship";
    elderly => "老人户", "Elderly";
    language => "语言 / Language", "Language / 语言";
    group_intro => "隔离楼栋的团购由社区组织，志愿者配送到楼。", "Group buys for quarantined buildings are run by the community and delivered by volunteers.";
    browse => "去逛逛", "Browse";
    not_found => "页面不存在", "Page not found";
    add_to_cart => "加入购物车", "Add to cart";
    added => "已加入购物车", "Added to cart";
    cart_empty => "购物车是空的", "Your cart is empty";
    total => "合计", "Total";
    go_checkout => "去结算", "Check out";
    remove => "删除", "Remove";
    price_changed => "价格已变动，原价", "Price changed, was";
    unavailable => "库存不足，请减少数量或删除", "Not enough left: lower the amount or remove it";
    checkout => "确认订单", "Confirm order";
    delivery => "送货上门", "Home delivery";
    pickup => "到店自提", "Pick up at the market";
    choose_slot => "选择时段", "Choose a time";
    no_slots => "这一天没有可选时段", "No times on this day";
    left => "剩", "left";
    full => "已约满", "Full";
    closed => "已截止", "Closed";
    address => "送货地址", "Delivery address";
    payment => "付款方式", "Payment";
    pay_on_delivery => "货到付款", "Pay on delivery";
    pay_wechat => "微信支付", "WeChat Pay";
    note => "备注（选填）", "Note (optional)";
    note_placeholder => "如：放门口，不用敲门", "e.g. leave at the door";
    place_order => "提交订单", "Place order";
    placing => "正在提交…", "Placing…";
    choose_slot_first => "请先选择时段", "Please choose a time first";
    order_placed => "下单成功", "Order placed";
    handoff_code => "收货码", "Hand-off code";
    handoff_hint => "志愿者送到时，请告诉他这6位数字", "Tell the volunteer these six digits at the door";
    order_no => "订单号", "Order no.";
    slot => "时段", "Time";
    items => "商品", "Items";
    stalls_in_order => "各摊位", "Stalls";
    timeline => "订单进度", "Progress";
    cancel_order => "取消订单", "Cancel order";
    sim_pay_title => "模拟微信支付（演示）", "Simulated WeChat Pay (demo)";
    sim_pay_confirm => "确认支付", "Confirm payment";
    pay_in_wechat => "请在微信里打开傅鲜生付款", "Open Fu Xian Sheng in WeChat to pay";
    refund => "退款", "Refund";
    notices => "消息", "News";
    open_refunds => "待完成的退款", "Refunds not yet back";
    price_board => "价格公示 · 稳物价", "Price board";
    gb_paid_ahead => "已付款：成团后配送到家；未成团全额退回", "Paid: delivered if it goes ahead, refunded in full if not";
    bind_phone => "绑定手机号", "Add your phone";
    bind_phone_hint => "用微信授权绑定手机号，志愿者送菜时能联系到您；这个手机号以前的订单也会合并过来。", "WeChat gives us your phone so volunteers can reach you; orders made with that phone come along.";
    bind_phone_button => "用微信授权绑定", "Use my WeChat phone";
    donate => "爱心捐助", "Donate";
    donate_intro => "为隔离和困难家庭捐菜：捐款或菜盒子进入爱心池，工作人员用它为这些家庭的订单付款。受助家庭不会知道是谁捐的。", "Money and veg boxes go to the pool; staff use it to pay quarantined and hardship households' orders. They are not told who gave.";
    pool_balance => "爱心池余额", "In the pool";
    households_helped => "已帮助家庭", "Households helped";
    give_money => "捐款", "Money";
    give_boxes => "捐菜盒子", "Veg boxes";
    give_now => "去捐助", "Give";
    my_gifts => "我的捐助", "My gifts";
    gift_helped => "已送到家庭", "Delivered to households";
    gift_thanks => "谢谢！您的捐助已进入爱心池", "Thank you: your gift is in the pool";
    paid_by_donations => "已由爱心捐助支付，您无需付款", "Paid by the donation pool: nothing to pay";
    record_gift => "登记单位捐助", "Record an organisation's gift";
    donor_name => "捐助单位", "Donor";
    amount_yuan => "金额（元）", "Amount (¥)";
    pool_needs => "等待帮助的订单", "Orders waiting for help";
    pay_from_pool => "用爱心池支付", "Pay from the pool";
    no_needs => "现在没有等待帮助的订单", "No orders are waiting for help";
    press_again => "再按一次确认", "Press again to confirm";
    ledger => "收支明细", "Ledger";
    ledger_csv => "导出收支明细 (CSV)", "Download the ledger (CSV)";
    cap_on => "稳物价限价中：每天涨幅不超过", "Price cap on: no rise of more than";
    lowest => "最低", "lowest";
    highest => "最高", "highest";
    changes => "次调价", "prices";
    price_cap => "稳物价限价", "Emergency price cap";
    cap_enable => "开启限价", "Cap on";
    cap_percent => "每天最多涨 (%)", "Most rise a day (%)";
    price_csv => "导出调价记录 (CSV)", "Download price changes (CSV)";
    refund_due => "待退款", "to be refunded";
    refund_requested => "退款中", "refunding";
    refund_succeeded => "已退回", "refunded";
    refund_failed => "退款未成功，工作人员会处理", "refund failed: staff will see to it";
    no_orders => "还没有订单", "No orders yet";
    pay_by => "请在此前付款", "Pay before";
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
    open_slot => "新开时段", "Open a slot";
    date => "日期", "Date";
    start => "开始", "Start";
    end => "结束", "End";
    cutoff_hours => "提前截止（小时）", "Cut-off (hours before)";
    capacity => "容量（单）", "Capacity (orders)";
    priority_share => "优先预留", "Priority reserve";
    save => "保存", "Save";
    adjust => "调整", "Adjust";
    cutoff_at => "截单", "Cut-off";
    priority_until => "优先保留到", "Held for priority until";
    opens_to_all => "后开放给所有人", "then open to all";
    close_slot => "关闭", "Close";
    reopen_slot => "重新开放", "Reopen";
    booked => "已约", "Booked";
    households => "住户", "Households";
    building_no => "楼号", "Building";
    not_allowed => "这个页面不对您的账户开放", "This page is not open to your account";
    edit_address => "修改住址", "Change address";
    saved => "已保存", "Saved";
    building => "号楼", "Bldg";
    unit => "单元", "Unit";
    room => "室", "Room";
    gb_none => "您的楼栋暂时没有团购", "No group-buys for your building yet";
    gb_need_home => "登记住址后，就能看到本楼的团购", "Add your home address to see your building's group-buys";
    gb_set_home => "去登记住址", "Add my address";
    gb_joined => "已参团", "Joined";
    gb_needs => "成团需", "Needs";
    gb_hh => "户", " households";
    gb_time_left => "剩余", "Left:";
    gb_ended => "已截止", "Closed";
    gb_deadline => "截止", "Deadline";
    gb_drop => "送货到楼", "Delivered to the building";
    gb_regular => "原价", "Usually";
    gb_limit => "每户限", "Per household max";
    gb_left => "还剩", "Left";
    gb_join => "参团", "Join";
    gb_save => "保存修改", "Save changes";
    gb_leave => "退出团购", "Leave";
    gb_joined_ok => "已参团，截团后生成订单", "You have joined; the order is made when it closes";
    gb_my_share => "我的份额", "My share";
    gb_see_order => "查看订单", "See the order";
    gb_open => "进行中", "Open";
    gb_confirmed => "已成团", "Confirmed";
    gb_failed => "未成团", "Did not go ahead";
    gb_cancelled => "已取消", "Called off";
    gb_console => "团长控制台", "Leader's console";
    gb_proxy => "代下单", "Order for a neighbour";
    gb_new => "开团", "Open a group-buy";
    gb_close_now => "立即截团", "Close now";
    gb_call_off => "取消团购", "Call it off";
    gb_sure => "确定吗？再按一次执行", "Sure? Press again to do it";
    gb_download_csv => "下载表格", "Download spreadsheet";
    gb_print => "打印", "Print";
    gb_pick_totals => "配货总数", "Totals to pick";
    gb_participants => "参团住户", "Households";
    gb_unpaid => "未付款", "Unpaid";
    gb_proxy_shares => "代下单的份额", "Placed for neighbours";
    gb_find_household => "查找住户", "Find the household";
    gb_placed_by => "代下单", "Placed by";
    gb_title_field => "团购名称", "Title";
    gb_buildings => "楼栋", "Buildings";
    gb_max => "最多", "Max";
    gb_min_households => "成团户数", "Households needed";
    gb_shortfall => "人数不足时", "If too few join";
    gb_proceed => "照常成团", "Go ahead anyway";
    gb_cancel_if_short => "取消团购", "Call it off";
    gb_head_start => "优先户提前（分钟）", "Priority head start (minutes)";
    gb_add_item => "添加", "Add";
    gb_hours => "几小时后截止", "Closes in (hours)";
    gb_placed_ok => "已为住户下单", "The share is placed";
    gb_for_household => "为这户下单", "Ordering for";
    gb_price => "团购价（分）", "Group price (fen)";
    gb_none_run => "还没有团购", "No group-buys yet";
    gb_print_title => "团购配货单", "Group-buy pick list";
    gb_households_count => "户数", "Households";
    gb_opens => "开始参团", "Joining opens";
    short_of => "缺货", "Out of stock:";
    stall_orders => "摊位订单", "Stall orders";
    all_slots => "全部时段", "All slots";
    no_stall_orders => "暂时没有订单", "No orders yet";
    pick_list => "配货单", "Pick list";
    live_on => "● 新订单会自动出现", "● New orders appear by themselves";
    live_off => "○ 正在连接，订单每分钟刷新", "○ Connecting; orders refresh every minute";
    my_products => "我的商品（库存和价格）", "My goods (stock and prices)";
    bad_price => "价格请写成 1.20 这样", "Write the price like 1.20";
    confirm_part => "确认接单", "Confirm";
    pack_part => "已打包", "Packed";
    part_pending => "待确认", "To confirm";
    part_confirmed => "已确认", "Confirmed";
    part_packed => "已打包", "Packed";
    deliveries => "配送", "Deliveries";
    no_batches => "这个时段还没有要送的订单", "Nothing to deliver in this slot yet";
    batch_waiting => "等待摊位", "Waiting for stalls";
    batch_ready => "可以认领", "Ready";
    batch_claimed => "已认领", "Claimed";
    batch_out => "配送中", "Out";
    batch_done => "已送完", "Done";
    claim_batch => "认领这一批", "Claim this batch";
    scan_handoff => "📷 扫码交付", "📷 Scan to hand over";
    scan_hint => "对准居民手机上的取货二维码", "Point at the QR code on the resident's phone";
    no_camera => "打不开相机，请手动输入取货码", "The camera cannot open: type the code instead";
    not_our_qr => "这不是傅鲜生的取货码", "Not a Fu Xian Sheng hand-off code";
    not_this_batch => "这个取货码不是本批次要送的订单", "That code is for an order not on this round";
    close => "关闭", "Close";
    open_batch => "打开清单", "Open the list";
    picked_up => "已取货，出发", "Picked up, on my way";
    hand_over => "交付", "Hand over";
    handed_over => "已交付", "Handed over";
    wrong_codes => "取货码输错", "Wrong codes";
    handoff_locked_note => "取货码输错太多次，已锁定。请联系工作人员重置。", "Too many wrong codes: locked. Ask staff to reset it.";
    reset_handoff => "重置取货码次数", "Reset the code tries";
    handoff_reset_done => "已重置，可以再输入取货码", "Reset: the code can be typed again";
    left_at_door => "已放在门口", "Left at the door";
    dispatch => "配送看板", "Dispatch board";
    report_problem => "收到的货有问题？", "Something wrong with it?";
    problem_hint => "例如：少了一样、坏了、送错门", "e.g. something missing, damaged, wrong door";
    problem_sent => "已收到您的反馈，工作人员会联系您", "Thank you: staff will get back to you";
    send => "提交", "Send";
    problems => "居民反馈", "Residents' reports";
    waited => "已等", "Waited";
    status => "状态", "Status";
    nobody_home => "家里没人？", "Nobody home?";
    where_left => "放在哪里了", "Where it was left";
    batch_all_done => "这一批已全部送达，谢谢您！", "Every order of this batch is delivered. Thank you!";
    not_charged => "不收费", "not charged";
    gb_priority_opens => "隔离、困难、老人户提前到", "priority households from";
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
        }
    });
}
