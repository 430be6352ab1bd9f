/*
 * Import upload: while a large file uploads and is read, say so (progressive enhancement;
 * without JavaScript the preview page simply arrives when reading is done).
 */
(function () {
    'use strict';
    var form = document.querySelector('form[data-import-upload]');
    var status = document.getElementById('import-status');
    if (!form || !status) {
        return;
    }
    form.addEventListener('submit', function () {
        status.textContent = 'Uploading and reading the file. A plan with thousands of rows takes a few seconds; ' +
            'the preview opens when every row has been read.';
        status.hidden = false;
    });
}());
