/*
 * Improvement action tracker: page start-up.
 *
 * Loaded with <script defer> after the design system's module script, so
 * window.DS exists by the time this runs. No inline scripts anywhere: the
 * Content-Security-Policy forbids them.
 */
(function () {
    'use strict';

    function start() {
        document.documentElement.classList.add('js-enabled');
        if (document.body) {
            document.body.classList.add('js-enabled');
        }

        if (window.DS && typeof window.DS.initAll === 'function') {
            window.DS.initAll();
        }

        // Move focus to the error summary so screen reader and keyboard
        // users hear about the problems first (design system pattern).
        var summary = document.querySelector('.ds_error-summary');
        if (summary) {
            if (!summary.hasAttribute('tabindex')) {
                summary.setAttribute('tabindex', '-1');
            }
            summary.focus();
        }

        // Buttons that ask for confirmation before submitting their form:
        // <button data-confirm="Delete this action?">
        document.addEventListener('click', function (event) {
            var target = event.target instanceof Element ? event.target.closest('[data-confirm]') : null;
            if (target && !window.confirm(target.getAttribute('data-confirm'))) {
                event.preventDefault();
            }
        });
    }

    if (document.readyState === 'loading') {
        document.addEventListener('DOMContentLoaded', start);
    } else {
        start();
    }
}());
