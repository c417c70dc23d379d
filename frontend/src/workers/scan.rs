//! The resident's hand-off QR code, read with the phone's camera (the rear one where there is
//! one): frames are drawn to a canvas a few times a second and read by a QR decoder compiled
//! in (rqrr), so it works in any browser with a camera, not only those with a barcode API.
//! Typing the six digits always works too.

use crate::i18n::tr;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// Frames wider than this are scaled down before decoding: a code held up to the camera is
/// large, and the decoder's time grows with the pixels.
const MAX_WIDTH: u32 = 640;

/// The camera's picture with a "close" button; `on_text` gets the text of the first QR code
/// seen. The camera is let go when the scanner closes.
#[component]
pub fn Scanner(on_text: Callback<String>, on_close: Callback<()>) -> impl IntoView {
    let video = NodeRef::<html::Video>::new();
    let failed = RwSignal::new(false);
    let stream = StoredValue::new_local(None::<web_sys::MediaStream>);
    let found = StoredValue::new(false);
    Effect::new(move |_| {
        let Some(el) = video.get() else { return };
        leptos::task::spawn_local(async move {
            match open_camera().await {
                Ok(s) => {
                    el.set_src_object(Some(&s));
                    let _ = el.play();
                    stream.try_set_value(Some(s));
                }
                Err(_) => {
                    failed.try_set(true);
                }
            }
        });
    });
    if let Ok(handle) = set_interval_with_handle(
        move || {
            if found.try_get_value() != Some(false) {
                return;
            }
            if let Some(text) = video.get_untracked().and_then(|v| read_frame(&v)) {
                found.set_value(true);
                on_text.run(text);
            }
        },
        std::time::Duration::from_millis(200),
    ) {
        on_cleanup(move || handle.clear());
    }
    on_cleanup(move || {
        stream.with_value(|s| {
            if let Some(s) = s {
                for track in s.get_tracks().iter() {
                    if let Ok(track) = track.dyn_into::<web_sys::MediaStreamTrack>() {
                        track.stop();
                    }
                }
            }
        })
    });
    view! {
        <div class="scanner card" id="scanner">
            <p>{tr("对准居民手机上的收货码二维码", "Point at the QR code on the resident's phone")}</p>
            <video node_ref=video autoplay=true muted=true playsinline=true></video>
            {move || failed.get().then(|| view! { <p class="form-error" role="alert">{tr("打不开相机，请手动输入收货码", "The camera cannot open: type the code instead")}</p> })}
            <button class="btn secondary block" id="close-scanner" on:click=move |_| on_close.run(())>{tr("关闭", "Close")}</button>
        </div>
    }
}

async fn open_camera() -> Result<web_sys::MediaStream, JsValue> {
    let devices = web_sys::window().ok_or(JsValue::NULL)?.navigator().media_devices()?;
    let constraints = web_sys::MediaStreamConstraints::new();
    let video = js_sys::Object::new();
    js_sys::Reflect::set(&video, &"facingMode".into(), &"environment".into())?;
    constraints.set_video(&video);
    constraints.set_audio(&JsValue::FALSE);
    let stream = JsFuture::from(devices.get_user_media_with_constraints(&constraints)?).await?;
    stream.dyn_into()
}

/// The text of a QR code in the video's current frame, if it shows one.
fn read_frame(video: &web_sys::HtmlVideoElement) -> Option<String> {
    let (w, h) = (video.video_width(), video.video_height());
    if w == 0 || h == 0 {
        return None;
    }
    let scale = (MAX_WIDTH as f64 / w as f64).min(1.0);
    let (w, h) = (((w as f64) * scale) as u32, ((h as f64) * scale) as u32);
    let canvas: web_sys::HtmlCanvasElement = document().create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(w);
    canvas.set_height(h);
    let ctx: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.draw_image_with_html_video_element_and_dw_and_dh(video, 0.0, 0.0, w as f64, h as f64).ok()?;
    let rgba = ctx.get_image_data(0.0, 0.0, w as f64, h as f64).ok()?.data();
    decode(w as usize, h as usize, &rgba)
}

/// The text of the first QR code in an RGBA picture.
pub fn decode(w: usize, h: usize, rgba: &[u8]) -> Option<String> {
    let grey = |x: usize, y: usize| {
        let p = (y * w + x) * 4;
        ((rgba[p] as u32 * 77 + rgba[p + 1] as u32 * 150 + rgba[p + 2] as u32 * 29) >> 8) as u8
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, grey);
    image.detect_grids().into_iter().find_map(|g| g.decode().ok().map(|(_, text)| text))
}
