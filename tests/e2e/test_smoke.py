"""The browser can reach kesu and Chinese renders with a CJK font."""

import shutil
import subprocess

from tests.e2e.conftest import shot


def test_sign_in_page_renders_in_chinese(new_page):
    # Without a CJK font chromium draws Chinese as empty boxes.
    assert shutil.which("fc-list"), "fontconfig missing"
    fonts = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True).stdout
    assert fonts.strip(), "no CJK font: apt-get install fonts-noto-cjk"
    page = new_page()
    page.goto("/login")
    assert page.locator("h1").inner_text().startswith("登录")
    shot(page, "login")
